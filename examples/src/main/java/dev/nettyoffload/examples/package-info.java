/**
 * Runnable examples: the offload demo and servers built on the GSO and GRO handlers.
 */
package dev.nettyoffload.examples;
