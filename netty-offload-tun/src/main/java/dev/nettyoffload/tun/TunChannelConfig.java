package dev.nettyoffload.tun;

import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The configuration of a {@link TunChannel}: Netty's common options plus {@link TunChannelOption}.
 */
public final class TunChannelConfig extends DefaultChannelConfig {
    /** The default of {@link TunChannelOption#MAX_READS_PER_WAKEUP}. */
    public static final int DEFAULT_MAX_READS_PER_WAKEUP = 64;

    private final TunChannel tun;
    private volatile Set<TunOffload> offloads = TunOffload.all();
    private volatile int mtu;
    private volatile boolean multiQueue;
    private volatile int vnetHeaderSize = VirtioNetHeader.LENGTH;
    private volatile int maxReadsPerWakeup = DEFAULT_MAX_READS_PER_WAKEUP;
    private volatile boolean completeChecksums;
    private volatile boolean partialChecksumWrites;

    TunChannelConfig(TunChannel channel) {
        super(channel);
        this.tun = channel;
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), TunChannelOption.OFFLOADS, TunChannelOption.MTU,
                TunChannelOption.MULTI_QUEUE, TunChannelOption.VNET_HDR_SIZE, TunChannelOption.MAX_READS_PER_WAKEUP,
                TunChannelOption.COMPLETE_CHECKSUMS, TunChannelOption.PARTIAL_CHECKSUM_WRITES);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == TunChannelOption.OFFLOADS) {
            return (T) offloads();
        }
        if (option == TunChannelOption.MTU) {
            return (T) Integer.valueOf(mtu);
        }
        if (option == TunChannelOption.MULTI_QUEUE) {
            return (T) Boolean.valueOf(multiQueue);
        }
        if (option == TunChannelOption.VNET_HDR_SIZE) {
            return (T) Integer.valueOf(vnetHeaderSize);
        }
        if (option == TunChannelOption.MAX_READS_PER_WAKEUP) {
            return (T) Integer.valueOf(maxReadsPerWakeup);
        }
        if (option == TunChannelOption.COMPLETE_CHECKSUMS) {
            return (T) Boolean.valueOf(completeChecksums);
        }
        if (option == TunChannelOption.PARTIAL_CHECKSUM_WRITES) {
            return (T) Boolean.valueOf(partialChecksumWrites);
        }
        return super.getOption(option);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == TunChannelOption.OFFLOADS) {
            setOffloads((Set<TunOffload>) value);
        } else if (option == TunChannelOption.MTU) {
            setMtu((Integer) value);
        } else if (option == TunChannelOption.MULTI_QUEUE) {
            setMultiQueue((Boolean) value);
        } else if (option == TunChannelOption.VNET_HDR_SIZE) {
            setVnetHeaderSize((Integer) value);
        } else if (option == TunChannelOption.MAX_READS_PER_WAKEUP) {
            setMaxReadsPerWakeup((Integer) value);
        } else if (option == TunChannelOption.COMPLETE_CHECKSUMS) {
            setCompleteChecksums((Boolean) value);
        } else if (option == TunChannelOption.PARTIAL_CHECKSUM_WRITES) {
            setPartialChecksumWrites((Boolean) value);
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    /** The requested offloads (a copy). */
    public Set<TunOffload> offloads() {
        Set<TunOffload> o = offloads;
        return o.isEmpty() ? EnumSet.noneOf(TunOffload.class) : EnumSet.copyOf(o);
    }

    /** Sets the requested offloads; before bind. */
    public TunChannelConfig setOffloads(Set<TunOffload> offloads) {
        if (offloads == null) {
            throw new IllegalArgumentException("offloads: null");
        }
        checkNotBound("offloads");
        this.offloads = offloads.isEmpty() ? EnumSet.noneOf(TunOffload.class) : EnumSet.copyOf(offloads);
        return this;
    }

    /** The MTU to set, 0 to keep the device's. */
    public int mtu() {
        return mtu;
    }

    /** Sets the MTU (68 to 65535, or 0 to keep); applied at once on a bound channel. */
    public TunChannelConfig setMtu(int mtu) {
        if (mtu != 0 && (mtu < 68 || mtu > 65535)) {
            throw new IllegalArgumentException("mtu: " + mtu + " (expected: 0 or 68..65535)");
        }
        this.mtu = mtu;
        if (mtu != 0) {
            tun.applyMtu(mtu);
        }
        return this;
    }

    /** Whether the device is opened with {@code IFF_MULTI_QUEUE}. */
    public boolean isMultiQueue() {
        return multiQueue;
    }

    /** Sets {@code IFF_MULTI_QUEUE}; before bind. */
    public TunChannelConfig setMultiQueue(boolean multiQueue) {
        checkNotBound("multiQueue");
        this.multiQueue = multiQueue;
        return this;
    }

    /** The {@code virtio_net_hdr} size, 10 or 12. */
    public int vnetHeaderSize() {
        return vnetHeaderSize;
    }

    /** Sets the {@code virtio_net_hdr} size, 10 or 12; before bind. */
    public TunChannelConfig setVnetHeaderSize(int size) {
        if (size != VirtioNetHeader.LENGTH && size != VirtioNetHeader.MRG_RXBUF_LENGTH) {
            throw new IllegalArgumentException("vnetHeaderSize: " + size + " (expected: " + VirtioNetHeader.LENGTH
                    + " or " + VirtioNetHeader.MRG_RXBUF_LENGTH + ")");
        }
        checkNotBound("vnetHeaderSize");
        this.vnetHeaderSize = size;
        return this;
    }

    /** The most packets read per readiness event. */
    public int maxReadsPerWakeup() {
        return maxReadsPerWakeup;
    }

    /** Sets the most packets read per readiness event, at least 1. */
    public TunChannelConfig setMaxReadsPerWakeup(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maxReadsPerWakeup: " + max + " (expected: >= 1)");
        }
        this.maxReadsPerWakeup = max;
        return this;
    }

    /** Whether read super-packets get their checksum completed. */
    public boolean isCompleteChecksums() {
        return completeChecksums;
    }

    /** Sets whether read super-packets get their checksum completed. */
    public TunChannelConfig setCompleteChecksums(boolean completeChecksums) {
        this.completeChecksums = completeChecksums;
        return this;
    }

    /** Whether plain TCP/UDP packets are written with {@code NEEDS_CSUM}. */
    public boolean isPartialChecksumWrites() {
        return partialChecksumWrites;
    }

    /**
     * Sets whether plain TCP/UDP packets are written with {@code NEEDS_CSUM}:
     * {@link TunChannelOption#PARTIAL_CHECKSUM_WRITES}.
     */
    public TunChannelConfig setPartialChecksumWrites(boolean partialChecksumWrites) {
        this.partialChecksumWrites = partialChecksumWrites;
        return this;
    }

    private void checkNotBound(String name) {
        if (tun.isActive()) {
            throw new IllegalStateException(name + ": takes effect at bind; the channel is already bound");
        }
    }
}
