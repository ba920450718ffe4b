package dev.nettyoffload.examples.video;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;

/**
 * Serves the page and the clip over HTTP/1.1: GET and HEAD, single byte ranges (206, 416), keep-alive. File
 * bodies go as {@link DefaultFileRegion}s, which the native transports and NIO send with {@code sendfile}, so the
 * bytes never enter user space and the kernel's TSO/GSO cuts the TCP stream.
 */
final class HttpVideoHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final MediaFiles files;
    private final String altSvc;

    /** {@code altSvc} is the {@code Alt-Svc} value that advertises HTTP/3, or null. */
    HttpVideoHandler(MediaFiles files, String altSvc) {
        this.files = files;
        this.altSvc = altSvc;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!request.decoderResult().isSuccess()) {
            sendError(ctx, HttpResponseStatus.BAD_REQUEST, false);
            return;
        }
        HttpMethod method = request.method();
        boolean head = HttpMethod.HEAD.equals(method);
        if (!head && !HttpMethod.GET.equals(method)) {
            sendError(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, keepAlive);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        String type = VideoPage.contentType(path);
        if (type == null) {
            sendError(ctx, HttpResponseStatus.NOT_FOUND, keepAlive);
            return;
        }
        if (type.startsWith("text/html")) {
            byte[] page = VideoPage.html();
            DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(page));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH, page.length)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
            finish(ctx, r, keepAlive);
            return;
        }
        MediaFiles.Media media = files.get(path);
        long total = media.length;
        ByteRange range = ByteRange.parse(request.headers().get(HttpHeaderNames.RANGE), total);
        ByteRange.Kind kind = ByteRange.kind(range);
        if (kind == ByteRange.Kind.UNSATISFIABLE) {
            DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Unpooled.EMPTY_BUFFER);
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + total)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            finish(ctx, r, keepAlive);
            return;
        }
        long first = kind == ByteRange.Kind.PARTIAL ? range.first : 0;
        long length = kind == ByteRange.Kind.PARTIAL ? range.length() : total;
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                kind == ByteRange.Kind.PARTIAL ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK);
        HttpHeaders h = r.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES)
                .set(HttpHeaderNames.CONTENT_LENGTH, length);
        if (kind == ByteRange.Kind.PARTIAL) {
            h.set(HttpHeaderNames.CONTENT_RANGE, range.contentRange(total));
        }
        if (altSvc != null) {
            h.set("alt-svc", altSvc);
        }
        HttpUtil.setKeepAlive(r, keepAlive);
        ctx.write(r);
        if (!head && length > 0) {
            ctx.write(new DefaultFileRegion(media.path.toFile(), first, length));
            files.served(length);
        }
        ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void finish(ChannelHandlerContext ctx, DefaultFullHttpResponse r, boolean keepAlive) {
        if (altSvc != null) {
            r.headers().set("alt-svc", altSvc);
        }
        HttpUtil.setKeepAlive(r, keepAlive);
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static void sendError(ChannelHandlerContext ctx, HttpResponseStatus status, boolean keepAlive) {
        byte[] body = (status + "\n").getBytes(StandardCharsets.UTF_8);
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        HttpUtil.setKeepAlive(r, keepAlive);
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A player that cancels a download resets the connection; there is nothing to report.
        ctx.close();
    }
}
