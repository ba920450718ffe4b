/**
 * The video streaming server: a sample clip as UDP MPEG-TS with USO, over HTTP/1.1 and over HTTP/3 with USO.
 */
package dev.nettyoffload.examples.video;
