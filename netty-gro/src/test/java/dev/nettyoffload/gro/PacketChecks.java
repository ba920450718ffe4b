package dev.nettyoffload.gro;

import dev.nettyoffload.core.packet.GsoPacket;
import dev.nettyoffload.core.packet.IpProtocol;
import dev.nettyoffload.core.packet.LinkType;
import dev.nettyoffload.core.packet.PacketLayout;
import dev.nettyoffload.core.packet.TunnelType;
import dev.nettyoffload.testkit.RefChecksum;
import dev.nettyoffload.gso.ChecksumMode;
import dev.nettyoffload.gso.PacketSegmenter;
import dev.nettyoffload.gso.PacketSegmenterConfig;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared checks of the raw-packet tests: input buffers, output shapes, stand-alone validity, segmentation back. */
final class PacketChecks {
    private PacketChecks() {
    }

    /** A leak-tracked buffer holding {@code bytes}: unshared (owned) or a slice of a larger buffer (shared). */
    static ByteBuf input(byte[] bytes, boolean owned) {
        if (owned) {
            return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
        }
        ByteBuf parent = Unpooled.directBuffer(bytes.length + 16);
        parent.writeZero(8).writeBytes(bytes).writeZero(8);
        ByteBuf slice = parent.retainedSlice(8, bytes.length);
        parent.release();
        return slice;
    }

    /** An allocator whose direct buffers (a run's buffer, say) cannot be allocated; heap ones can. */
    static ByteBufAllocator failingDirectAllocator() {
        return new AbstractByteBufAllocator(true) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                return Unpooled.buffer(initialCapacity, maxCapacity);
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                throw new IllegalStateException("simulated allocation failure");
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        };
    }

    /** "1448+1448+500" for a merged packet, "1448" for a plain buffer. */
    static String describe(Object msg, LinkType linkType) {
        if (msg instanceof GsoPacket) {
            GsoPacket g = (GsoPacket) msg;
            PacketLayout l = new PacketLayout().parse(g.content(), linkType, g.tunnelType(), g.gsoType());
            int payload = l.payloadLength();
            StringBuilder sb = new StringBuilder();
            int n = g.segmentsFor(payload);
            assertEquals(g.segmentCount(), n, "declared segment count of " + g);
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : "+").append(Math.min(g.segmentSize(), payload - i * g.segmentSize()));
            }
            return sb.toString();
        }
        ByteBuf b = (ByteBuf) msg;
        try {
            return Integer.toString(new PacketLayout().parse(b, linkType, tunnelOf(b, linkType), null).payloadLength());
        } catch (RuntimeException e) {
            return "raw" + b.readableBytes();
        }
    }

    private static TunnelType tunnelOf(ByteBuf b, LinkType linkType) {
        for (TunnelType t : new TunnelType[] {TunnelType.VXLAN, TunnelType.IPIP, TunnelType.NONE}) {
            try {
                new PacketLayout().parse(b, linkType, t, null);
                return t;
            } catch (RuntimeException e) {
                // try the next
            }
        }
        return TunnelType.NONE;
    }

    /** Expands "1448x3+500" into "1448+1448+1448+500". */
    static String expand(String spec) {
        StringBuilder sb = new StringBuilder();
        for (String part : spec.split("\\+")) {
            int x = part.indexOf('x');
            int n = x < 0 ? 1 : Integer.parseInt(part.substring(x + 1));
            String size = x < 0 ? part : part.substring(0, x);
            for (int i = 0; i < n; i++) {
                sb.append(sb.length() == 0 ? "" : "+").append(size);
            }
        }
        return sb.toString();
    }

    /**
     * Checks that a merged packet is valid on its own, independently of the production checksum code: every
     * IPv4 header checksum, the TCP/UDP checksum over the whole merged payload (complete, or the folded
     * pseudo-header sum when {@code partial}), and a non-zero outer VXLAN UDP checksum.
     */
    static void assertValidMerged(GsoPacket g, LinkType linkType, boolean partial, String what) {
        byte[] b = ByteBufUtil.getBytes(g.content());
        PacketLayout l = new PacketLayout().parse(g.content(), linkType, g.tunnelType(), g.gsoType());
        int l3 = l.l3();
        int l4 = l.l4();
        int proto = l.l4Protocol();
        if (l.l3Version() == 4) {
            assertEquals(0xFFFF, RefChecksum.fold(RefChecksum.sum(b, l3, l.l3HeaderLength(), 0)), what + ": inner IPv4 checksum");
        }
        if (l.outerL3() != PacketLayout.ABSENT && l.outerL3Version() == 4) {
            assertEquals(0xFFFF, RefChecksum.fold(RefChecksum.sum(b, l.outerL3(), l.outerL3HeaderLength(), 0)),
                    what + ": outer IPv4 checksum");
        }
        byte[] src = l.l3Version() == 4 ? Arrays.copyOfRange(b, l3 + 12, l3 + 16) : Arrays.copyOfRange(b, l3 + 8, l3 + 24);
        int pd = l.pseudoDestination();
        byte[] dst = Arrays.copyOfRange(b, pd, pd + (l.l3Version() == 4 ? 4 : 16));
        int l4Length = b.length - l4;
        long pseudo = RefChecksum.pseudo(src, dst, proto, l4Length);
        int checkAt = l4 + (proto == IpProtocol.TCP ? 16 : 6);
        int field = ((b[checkAt] & 0xFF) << 8) | (b[checkAt + 1] & 0xFF);
        if (partial) {
            assertEquals(RefChecksum.fold(pseudo), field, what + ": partial checksum = folded pseudo-header sum");
            int c = RefChecksum.checksum(RefChecksum.sum(b, l4, l4Length, 0));
            RefChecksum.put16(b, checkAt, c);
        } else {
            assertEquals(0xFFFF, RefChecksum.fold(RefChecksum.sum(b, l4, l4Length, pseudo)), what + ": L4 checksum");
        }
        if (l.tunnelType() == TunnelType.VXLAN) {
            int t = l.tunnelL4();
            int ck = ((b[t + 6] & 0xFF) << 8) | (b[t + 7] & 0xFF);
            if (ck != 0) {
                int o = l.outerL3();
                boolean v4 = l.outerL3Version() == 4;
                byte[] os = v4 ? Arrays.copyOfRange(b, o + 12, o + 16) : Arrays.copyOfRange(b, o + 8, o + 24);
                int od = l.outerPseudoDestination();
                byte[] odst = Arrays.copyOfRange(b, od, od + (v4 ? 4 : 16));
                assertEquals(0xFFFF, RefChecksum.fold(RefChecksum.sum(b, t, b.length - t,
                        RefChecksum.pseudo(os, odst, 17, b.length - t))), what + ": outer UDP checksum");
            }
        }
    }

    /** Segments every output back (merged packets with the segmenter) into byte arrays, releasing nothing. */
    static List<byte[]> expandOutputs(List<Object> outputs, LinkType linkType, ByteBufAllocator alloc) {
        PacketSegmenter segmenter = new PacketSegmenter(PacketSegmenterConfig.newBuilder().linkType(linkType)
                .checksumMode(ChecksumMode.FULL).build());
        List<byte[]> all = new ArrayList<>();
        for (Object o : outputs) {
            if (o instanceof GsoPacket) {
                List<Object> segs = new ArrayList<>();
                try {
                    segmenter.segment((GsoPacket) o, alloc, segs);
                    for (Object s : segs) {
                        all.add(ByteBufUtil.getBytes((ByteBuf) s));
                    }
                } finally {
                    for (Object s : segs) {
                        ReferenceCountUtil.release(s);
                    }
                }
            } else {
                all.add(ByteBufUtil.getBytes((ByteBuf) o));
            }
        }
        return all;
    }

    /** Asserts that two packet lists are equal as multisets (byte for byte), naming what differs. */
    static void assertSameMultiset(List<byte[]> expected, List<byte[]> actual, String what) {
        List<String> e = new ArrayList<>();
        List<String> a = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (byte[] x : expected) {
            e.add(hex.formatHex(x));
        }
        for (byte[] x : actual) {
            a.add(hex.formatHex(x));
        }
        e.sort(null);
        a.sort(null);
        if (!e.equals(a)) {
            fail(what + ": " + expected.size() + " packets in, " + actual.size() + " out after segmentation;"
                    + " the packets differ");
        }
    }

    /** Reads and returns every inbound message of {@code ch}. */
    static List<Object> drain(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            out.add(o);
        }
        return out;
    }

    static void releaseAll(List<?> msgs) {
        for (Object o : msgs) {
            ReferenceCountUtil.release(o);
        }
    }

    /** A merged packet is one direct buffer, not a composite of its inputs. */
    static void assertContiguous(Object o) {
        if (o instanceof GsoPacket) {
            ByteBuf content = ((GsoPacket) o).content();
            assertTrue(!(content instanceof CompositeByteBuf) && content.isDirect() && content.nioBufferCount() == 1,
                    "merged content is one direct buffer: " + o + " in " + content);
        }
    }
}
