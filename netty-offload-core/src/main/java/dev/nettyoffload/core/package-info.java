/**
 * Packet model, Internet checksums and offload capability probing shared by the GSO and GRO handlers.
 */
package dev.nettyoffload.core;
