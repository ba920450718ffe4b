/**
 * Segmentation offload (USO/GSO): {@code GsoEncoder} for datagrams, {@code PacketGsoEncoder} for raw IP packets.
 */
package dev.nettyoffload.gso;
