/**
 * Our own io_uring receive path for Netty's {@code IoUringDatagramChannel}: a reader that asks for UDP_GRO and
 * hands the pipeline one message per kernel batch ({@link dev.nettyoffload.core.uring.IoUringDatagramReader}),
 * with one multishot RECVMSG into provided buffers or with single-shot RECVMSGs
 * ({@link dev.nettyoffload.core.uring.ReaderMode}).
 */
package dev.nettyoffload.core.uring;
