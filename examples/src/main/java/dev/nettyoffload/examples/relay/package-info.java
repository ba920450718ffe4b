/**
 * A UDP relay that receives with GRO and forwards with GSO: received batches leave unchanged as USO writes.
 */
package dev.nettyoffload.examples.relay;
