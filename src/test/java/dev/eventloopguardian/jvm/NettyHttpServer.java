package dev.eventloopguardian.jvm;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A real Netty 4.2 HTTP server on 127.0.0.1 with one NIO event loop, which accepts and serves every
 * connection: each route runs on that loop, as an application's handler would, and its result is
 * the response body.
 */
final class NettyHttpServer implements AutoCloseable {
    static final String LOOP_NAME = "netty-http";

    private final EventLoopGroup group;
    private final Channel channel;
    private final AtomicLong served;

    private NettyHttpServer(EventLoopGroup group, Channel channel, AtomicLong served) {
        this.group = group;
        this.channel = channel;
        this.served = served;
    }

    /** Binds to a free port of 127.0.0.1; the loop's thread has started when this returns. */
    static NettyHttpServer start(Map<String, Supplier<String>> routes) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(LOOP_NAME),
                NioIoHandler.newFactory());
        AtomicLong served = new AtomicLong();
        Channel channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel connection) {
                        connection.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new Routes(routes, served));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        return new NettyHttpServer(group, channel, served);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + ((InetSocketAddress) channel.localAddress()).getPort() + path);
    }

    long requestsServed() {
        return served.get();
    }

    /** Shuts the loop down the way applications do, with Netty's quiet period; again does nothing. */
    @Override
    public void close() throws InterruptedException {
        if (group.isShuttingDown()) {
            return;
        }
        channel.close().sync();
        group.shutdownGracefully(100, 2_000, TimeUnit.MILLISECONDS).sync();
    }

    private static final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Map<String, Supplier<String>> routes;
        private final AtomicLong served;

        Routes(Map<String, Supplier<String>> routes, AtomicLong served) {
            this.routes = routes;
            this.served = served;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
            Supplier<String> route = routes.get(new QueryStringDecoder(request.uri()).path());
            HttpResponseStatus status = route == null ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.OK;
            String body = route == null ? "no route" : route.get();
            FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            served.incrementAndGet();
            var written = context.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
