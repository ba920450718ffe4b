/**
 * The packet model: header constants, the allocation-free {@link dev.nettyoffload.core.packet.PacketLayout}
 * parser, Internet checksums and {@link dev.nettyoffload.core.packet.GsoPacket}, a large packet with its offload
 * metadata.
 */
package dev.nettyoffload.core.packet;
