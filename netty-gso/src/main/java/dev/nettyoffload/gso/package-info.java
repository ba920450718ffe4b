/**
 * {@code GsoEncoder}: segmentation offload (USO/GSO) for datagrams and raw IP packets.
 */
package dev.nettyoffload.gso;
