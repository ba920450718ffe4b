/**
 * Receive offload: {@code GroAggregator} batches datagrams (UDP_GRO), {@code PacketGroAggregator} merges raw IP
 * packets by the kernel's GRO rules.
 */
package dev.nettyoffload.gro;
