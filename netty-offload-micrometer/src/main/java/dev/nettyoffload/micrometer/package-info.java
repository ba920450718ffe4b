/**
 * Micrometer {@code MeterBinder}s for the counters of every netty-offload handler, and
 * {@link dev.nettyoffload.micrometer.OffloadMetrics} to bind all of a channel's handlers in one call.
 */
package dev.nettyoffload.micrometer;
