package dev.nettyoffload.ffm;

import dev.nettyoffload.core.DatagramReader;
import dev.nettyoffload.core.DatagramReaderProvider;
import dev.nettyoffload.core.Transport;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.util.concurrent.Future;

/**
 * The {@link DatagramReaderProvider} service of this module: core's {@code DatagramReaders} (and so
 * {@code DatagramChannelTuning.apply}) finds it with {@link java.util.ServiceLoader} and puts an
 * {@link EpollBatchReader} with {@link EpollBatchReaderConfig#DEFAULT} on epoll datagram channels.
 */
public final class EpollBatchReaderProvider implements DatagramReaderProvider {
    @Override
    public DatagramReader reader() {
        return DatagramReader.EPOLL_FFM;
    }

    @Override
    public Transport transport() {
        return Transport.EPOLL;
    }

    @Override
    public String unavailabilityReason() {
        Throwable cause = EpollBatchReader.unavailabilityCause();
        return cause == null ? null : String.valueOf(cause.getMessage() != null ? cause.getMessage() : cause);
    }

    @Override
    public Future<?> attach(Channel channel) {
        if (!(channel instanceof EpollDatagramChannel epoll)) {
            throw new IllegalArgumentException("channel: not an EpollDatagramChannel: " + channel.getClass().getName());
        }
        return EpollBatchReader.install(epoll);
    }

    @Override
    public boolean isReading(Channel channel) {
        EpollBatchReader reader = EpollBatchReader.of(channel);
        return reader != null && reader.isRunning();
    }

    @Override
    public String describe(Channel channel) {
        EpollBatchReader reader = EpollBatchReader.of(channel);
        return reader == null ? null : reader.toString();
    }

    @Override
    public String toString() {
        return "EpollBatchReaderProvider";
    }
}
