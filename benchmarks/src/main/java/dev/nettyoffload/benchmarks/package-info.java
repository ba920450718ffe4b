/**
 * JMH micro-benchmarks and the end-to-end throughput harness.
 */
package dev.nettyoffload.benchmarks;
