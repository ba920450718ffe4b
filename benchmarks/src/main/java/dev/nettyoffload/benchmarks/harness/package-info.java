/**
 * The end-to-end throughput harness: plain Netty, {@code GsoEncoder} and {@code GroAggregator} against a C
 * reference, over loopback and veth, with a JSON, Markdown and SVG report.
 */
package dev.nettyoffload.benchmarks.harness;
