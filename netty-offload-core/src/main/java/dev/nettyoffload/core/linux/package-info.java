/**
 * Host tools: routes ({@code ip}), NIC features and limits ({@code ethtool}, sysfs), queueing disciplines
 * ({@code tc}) and the {@link dev.nettyoffload.core.linux.OffloadReport} that combines them.
 */
package dev.nettyoffload.core.linux;
