package dev.nettyoffload.examples.video;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Range headers (RFC 9110 section 14.1.2) against a 1000-byte resource. */
class ByteRangeTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
        "NULL                 | WHOLE",
        "bytes=0-99           | 0-99",
        "bytes=900-           | 900-999",
        "bytes=900-5000       | 900-999",
        "bytes=-100           | 900-999",
        "bytes=-5000          | 0-999",
        "bytes=999-999        | 999-999",
        "BYTES=10-19          | 10-19",
        "bytes = 10-19        | WHOLE",
        "bytes=1000-          | UNSATISFIABLE",
        "bytes=1000-1010      | UNSATISFIABLE",
        "bytes=-0             | UNSATISFIABLE",
        "bytes=5-3            | WHOLE",
        "bytes=0-1,5-6        | WHOLE",
        "items=0-1            | WHOLE",
        "bytes=a-b            | WHOLE",
        "bytes=10             | WHOLE",
    })
    void parse(String header, String expected) {
        ByteRange r = ByteRange.parse(header, 1000);
        ByteRange.Kind kind = ByteRange.kind(r);
        String actual = kind == ByteRange.Kind.PARTIAL ? r.first + "-" + r.last : kind.name();
        assertEquals(expected, actual);
        if (kind == ByteRange.Kind.PARTIAL) {
            assertEquals("bytes " + r.first + '-' + r.last + "/1000", r.contentRange(1000));
            assertEquals(r.last - r.first + 1, r.length());
        }
    }
}
