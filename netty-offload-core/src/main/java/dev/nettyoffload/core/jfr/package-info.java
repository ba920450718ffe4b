/**
 * JDK Flight Recorder events for what an operator wants to see on a timeline: kernel refusals of segmented sends
 * (and the fallback they cause), truncated received batches and checksum failures. Enable them with
 * {@code -XX:StartFlightRecording} or a {@code jdk.jfr.Recording}; they cost a flag check when off.
 */
package dev.nettyoffload.core.jfr;
