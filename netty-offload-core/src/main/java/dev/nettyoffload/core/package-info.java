/**
 * Transports, offload capability probing, UDP limits, datagram channel tuning and socket pacing, shared by the
 * GSO and GRO handlers.
 */
package dev.nettyoffload.core;
