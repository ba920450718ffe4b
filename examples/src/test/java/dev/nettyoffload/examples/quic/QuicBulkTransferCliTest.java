package dev.nettyoffload.examples.quic;

import dev.nettyoffload.core.Transport;
import dev.nettyoffload.examples.Cli;
import dev.nettyoffload.examples.CliRun;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** QuicBulkTransfer's command line: help, and bad input refused in one line before any channel is bound. */
class QuicBulkTransferCliTest {

    @Test
    void helpShowsTheOptionsAndDefaults() {
        CliRun.of(QuicBulkTransfer::run, "--help").assertHelp("--transport=epoll|io_uring|nio", "--mib=N",
                "(default: 64)", "--mode=uso|software|none", "(default: uso)", "--no-checksum", "--client-gro",
                "--uring-batched-reads", "--compare");
    }

    @Test
    void badOptionsAreRefusedInOneLine() {
        CliRun.of(QuicBulkTransfer::run, "--mode", "fast").assertRefused("--mode", "USO, SOFTWARE, NONE");
        CliRun.of(QuicBulkTransfer::run, "--mib", "0").assertRefused("--mib", "1-4096");
        CliRun.of(QuicBulkTransfer::run, "--mib", "lots").assertRefused("--mib", "1-4096");
        CliRun.of(QuicBulkTransfer::run, "--transport", "quic").assertRefused("--transport",
                "epoll, io_uring or nio");
        CliRun.of(QuicBulkTransfer::run, "--transport", "nio", "--no-checksum").assertRefused("--no-checksum",
                "epoll or io_uring");
        CliRun.of(QuicBulkTransfer::run, "--transport", "epoll", "--uring-batched-reads")
                .assertRefused("--uring-batched-reads", "io_uring");
        CliRun.of(QuicBulkTransfer::run, "--transport", "io_uring", "--uring-batched-reads", "--client-gro")
                .assertRefused("--uring-batched-reads", "--client-gro");
    }

    @Test
    void modeAndTransportAnyCase() {
        BulkOptions o = Cli.parse(new BulkOptions(), "--mode", "Software", "--transport", "NIO");
        assertEquals(QuicBulkTransfer.SendMode.SOFTWARE, o.mode);
        assertEquals(Transport.NIO, o.transport);
        assertEquals(QuicBulkTransfer.ReadTuning.DEFAULT, o.reads());
    }
}
