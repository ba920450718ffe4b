/**
 * {@code GroAggregator}: receive offload (UDP_GRO/GRO) for datagrams and raw IP packets.
 */
package dev.nettyoffload.gro;
