package dev.nettyoffload.examples.video;

/**
 * One byte range of an HTTP {@code Range} header (RFC 9110 section 14), resolved against the resource length.
 * Only a single range is served; a multi-range request gets the whole resource, as the RFC allows.
 */
final class ByteRange {
    final long first;
    final long last;

    ByteRange(long first, long last) {
        this.first = first;
        this.last = last;
    }

    long length() {
        return last - first + 1;
    }

    /** {@code bytes first-last/total} for {@code Content-Range}. */
    String contentRange(long total) {
        return "bytes " + first + '-' + last + '/' + total;
    }

    /** Outcome of {@link #parse}. */
    enum Kind {
        /** No (usable) Range header: send the whole resource with 200. */
        WHOLE,
        /** One satisfiable range: send it with 206. */
        PARTIAL,
        /** A syntactically valid range that lies past the end: 416. */
        UNSATISFIABLE
    }

    static Kind kind(ByteRange r) {
        return r == null ? Kind.WHOLE : r == UNSATISFIABLE ? Kind.UNSATISFIABLE : Kind.PARTIAL;
    }

    static final ByteRange UNSATISFIABLE = new ByteRange(-1, -1);

    /**
     * Parses {@code header} for a resource of {@code length} bytes: null for the whole resource (no header, not
     * bytes, several ranges or bad syntax), {@link #UNSATISFIABLE}, or the range clipped to the resource.
     */
    static ByteRange parse(String header, long length) {
        if (header == null) {
            return null;
        }
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = h.substring(6).trim();
        if (spec.indexOf(',') >= 0) {
            return null;
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        try {
            if (a.isEmpty()) {
                // Suffix range: the last N bytes.
                long n = Long.parseLong(b);
                if (n <= 0) {
                    return n == 0 ? UNSATISFIABLE : null;
                }
                if (length == 0) {
                    return UNSATISFIABLE;
                }
                return new ByteRange(Math.max(0, length - n), length - 1);
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
            if (first < 0 || last < first) {
                return null;
            }
            if (first >= length) {
                return UNSATISFIABLE;
            }
            return new ByteRange(first, Math.min(last, length - 1));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
