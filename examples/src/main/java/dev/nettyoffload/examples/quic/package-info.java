/**
 * QUIC with UDP segmentation offload: a bulk-transfer example built on {@code QuicUso}.
 */
package dev.nettyoffload.examples.quic;
