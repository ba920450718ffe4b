/**
 * A userspace point-to-point IP-in-UDP tunnel between two {@link dev.nettyoffload.tun.TunChannel}s, with
 * segmentation and receive offload end to end, and {@link dev.nettyoffload.examples.tunnel.TunnelBenchmark}.
 */
package dev.nettyoffload.examples.tunnel;
