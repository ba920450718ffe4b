/**
 * A userspace VXLAN gateway (RFC 7348) joining two VXLAN segments: VXLAN codec, MAC learning, GRO on ingress and
 * GSO on egress with re-segmentation to the egress MTU and USO for the outer datagrams.
 */
package dev.nettyoffload.examples.vxlan;
