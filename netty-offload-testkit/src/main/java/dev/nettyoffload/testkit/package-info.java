/**
 * Test helpers shared by every module (not deployed): prerequisite checks, command runner, network namespaces,
 * a pattern sender, test packets, pcap reading, UDP sinks and the leak detector that fails a test.
 */
package dev.nettyoffload.testkit;
