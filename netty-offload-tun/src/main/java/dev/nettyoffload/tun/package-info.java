/**
 * A Linux TUN device as a Netty channel ({@link dev.nettyoffload.tun.TunChannel}, Java 22+) that reads and writes
 * segmentation offload super-packets through {@code virtio_net_hdr}.
 */
package dev.nettyoffload.tun;
