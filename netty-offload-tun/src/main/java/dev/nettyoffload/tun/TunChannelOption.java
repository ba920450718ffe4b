package dev.nettyoffload.tun;

import io.netty.channel.ChannelOption;

import java.util.Set;

/**
 * The options of a {@link TunChannel}. Those that shape the device ({@link #OFFLOADS}, {@link #MULTI_QUEUE},
 * {@link #VNET_HDR_SIZE}) take effect when the channel binds; {@link #MTU} is applied at bind and at once when set
 * on a bound channel.
 *
 * @param <T> the value type
 */
public final class TunChannelOption<T> extends ChannelOption<T> {
    /**
     * The offloads to ask the kernel for (default: {@link TunOffload#all()}). The kernel may accept fewer; the
     * channel probes down on refusal and {@link TunChannel#offloads()} says what was set. An empty set gives plain
     * packets with complete checksums in both directions, one system call per packet.
     */
    public static final ChannelOption<Set<TunOffload>> OFFLOADS = valueOf(TunChannelOption.class, "TUN_OFFLOADS");

    /** The interface MTU to set, 0 (the default) to keep what the device has (1500 for a new one). */
    public static final ChannelOption<Integer> MTU = valueOf(TunChannelOption.class, "TUN_MTU");

    /**
     * Whether to open the device with {@code IFF_MULTI_QUEUE} (default false): each channel bound to the same name
     * is then one queue, and the kernel spreads flows over them. All queues must agree on this flag.
     */
    public static final ChannelOption<Boolean> MULTI_QUEUE = valueOf(TunChannelOption.class, "TUN_MULTI_QUEUE");

    /**
     * The size of the header in front of each packet, {@value VirtioNetHeader#LENGTH} (the default, {@code struct
     * virtio_net_hdr}) or {@value VirtioNetHeader#MRG_RXBUF_LENGTH} ({@code struct virtio_net_hdr_mrg_rxbuf}).
     */
    public static final ChannelOption<Integer> VNET_HDR_SIZE = valueOf(TunChannelOption.class, "TUN_VNET_HDR_SIZE");

    /** The most packets read per readiness event before other channels of the loop get a turn (default 64). */
    public static final ChannelOption<Integer> MAX_READS_PER_WAKEUP =
            valueOf(TunChannelOption.class, "TUN_MAX_READS_PER_WAKEUP");

    /**
     * Whether read super-packets get their TCP/UDP checksum completed (default false). The kernel hands them over
     * with the checksum still to do ({@code VIRTIO_NET_HDR_F_NEEDS_CSUM}); {@link dev.nettyoffload.gso.PacketSegmenter}
     * recomputes every segment's checksum anyway, so completing the whole packet first only costs a pass over
     * its bytes. Plain packets are always completed.
     */
    public static final ChannelOption<Boolean> COMPLETE_CHECKSUMS =
            valueOf(TunChannelOption.class, "TUN_COMPLETE_CHECKSUMS");

    /**
     * Whether plain TCP/UDP packets ({@link io.netty.buffer.ByteBuf} writes) go down with {@code NEEDS_CSUM}, as
     * super-packets always do (default false): the channel rewrites the checksum field to the pseudo-header sum
     * and the kernel takes the packet as {@code CHECKSUM_PARTIAL}, so it delivers it locally without verifying
     * and completes the checksum if it forwards it. For a writer whose packets may carry partial checksums and
     * whose integrity is established otherwise (verified, or covered by a tunnel's outer checksum or AEAD tag):
     * the checksum a packet carries is not looked at. Fragments, extension headers and other protocols are
     * written as they are.
     */
    public static final ChannelOption<Boolean> PARTIAL_CHECKSUM_WRITES =
            valueOf(TunChannelOption.class, "TUN_PARTIAL_CHECKSUM_WRITES");

    @SuppressWarnings("deprecation")
    private TunChannelOption() {
        super(null);
    }
}
