package dev.nettyoffload.examples.video;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicStreamChannel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;

/**
 * Serves the page and the clip on one HTTP/3 request stream: GET and HEAD, single byte ranges. QUIC encrypts
 * every packet, so a file cannot go zero-copy as over TCP; it is read in 64 KiB chunks as the stream has room,
 * and the QUIC codec below (under {@code QuicUso}) batches the packets into UDP_SEGMENT sends.
 */
final class Http3VideoHandler extends Http3RequestStreamInboundHandler {
    private static final int CHUNK = 64 * 1024;

    private final MediaFiles files;
    private FileChannel file;
    private long position;
    private long end;

    Http3VideoHandler(MediaFiles files) {
        this.files = files;
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) throws Exception {
        Http3Headers in = frame.headers();
        CharSequence method = in.method();
        boolean head = method != null && "HEAD".contentEquals(method);
        if (method == null || !head && !"GET".contentEquals(method)) {
            sendText(ctx, "405", "method not allowed\n", head);
            return;
        }
        String path = in.path() == null ? "/" : in.path().toString();
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        String type = VideoPage.contentType(path);
        if (type == null) {
            sendText(ctx, "404", "not found\n", head);
            return;
        }
        if (type.startsWith("text/html")) {
            byte[] page = VideoPage.html();
            DefaultHttp3HeadersFrame headers = new DefaultHttp3HeadersFrame();
            headers.headers().status("200").add("content-type", type).addInt("content-length", page.length)
                    .add("cache-control", "no-cache");
            if (head) {
                ctx.writeAndFlush(headers).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            } else {
                ctx.write(headers);
                ctx.writeAndFlush(new DefaultHttp3DataFrame(Unpooled.wrappedBuffer(page)))
                        .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            }
            return;
        }
        MediaFiles.Media media = files.get(path);
        CharSequence rangeHeader = in.get("range");
        ByteRange range = ByteRange.parse(rangeHeader == null ? null : rangeHeader.toString(), media.length);
        ByteRange.Kind kind = ByteRange.kind(range);
        DefaultHttp3HeadersFrame headers = new DefaultHttp3HeadersFrame();
        if (kind == ByteRange.Kind.UNSATISFIABLE) {
            headers.headers().status("416").add("content-range", "bytes */" + media.length)
                    .addInt("content-length", 0);
            ctx.writeAndFlush(headers).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            return;
        }
        long first = kind == ByteRange.Kind.PARTIAL ? range.first : 0;
        long length = kind == ByteRange.Kind.PARTIAL ? range.length() : media.length;
        headers.headers().status(kind == ByteRange.Kind.PARTIAL ? "206" : "200").add("content-type", type)
                .add("accept-ranges", "bytes").addLong("content-length", length);
        if (kind == ByteRange.Kind.PARTIAL) {
            headers.headers().add("content-range", range.contentRange(media.length));
        }
        if (head || length == 0) {
            ctx.writeAndFlush(headers).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            return;
        }
        ctx.write(headers);
        file = FileChannel.open(media.path, StandardOpenOption.READ);
        position = first;
        end = first + length;
        files.served(length);
        sendMore(ctx);
    }

    /** Writes chunks while the stream has room; the last one ends the stream. */
    private void sendMore(ChannelHandlerContext ctx) throws IOException {
        while (file != null && ctx.channel().isWritable()) {
            int n = (int) Math.min(CHUNK, end - position);
            ByteBuf chunk = ctx.alloc().directBuffer(n);
            boolean ok = false;
            try {
                while (chunk.writerIndex() < n) {
                    int read = chunk.writeBytes(file, position + chunk.writerIndex(), n - chunk.writerIndex());
                    if (read < 0) {
                        throw new IOException("file shrank at offset " + (position + chunk.writerIndex()));
                    }
                }
                ok = true;
            } finally {
                if (!ok) {
                    chunk.release();
                    closeFile();
                }
            }
            position += n;
            if (position == end) {
                closeFile();
                ctx.writeAndFlush(new DefaultHttp3DataFrame(chunk)).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
                return;
            }
            ctx.write(new DefaultHttp3DataFrame(chunk));
        }
        ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        sendMore(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        frame.release();
    }

    @Override
    protected void channelInputClosed(ChannelHandlerContext ctx) {
        // The request has no body we need; the response ends the stream.
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // A player that has enough of a range resets the stream.
        closeFile();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        closeFile();
    }

    private void closeFile() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // Closing a read-only file cannot lose data.
            }
            file = null;
        }
    }

    private static void sendText(ChannelHandlerContext ctx, String status, String text, boolean head) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        DefaultHttp3HeadersFrame headers = new DefaultHttp3HeadersFrame();
        headers.headers().status(status).add("content-type", "text/plain; charset=utf-8")
                .addInt("content-length", body.length);
        if (head) {
            ctx.writeAndFlush(headers).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            return;
        }
        ctx.write(headers);
        ctx.writeAndFlush(new DefaultHttp3DataFrame(Unpooled.wrappedBuffer(body)))
                .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }
}
