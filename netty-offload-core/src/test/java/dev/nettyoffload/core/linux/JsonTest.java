package dev.nettyoffload.core.linux;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {

    @Test
    void parsesNestedValues() {
        Object v = Json.parse(" [{\"a\":1,\"b\":[true,false,null],\"c\":\"x\\\"y\\u0041\",\"d\":-2.5e1,\"e\":{}}] ");
        Map<?, ?> m = (Map<?, ?>) ((List<?>) v).get(0);
        assertEquals(1L, m.get("a"));
        assertEquals(java.util.Arrays.asList(true, false, null), m.get("b"));
        assertEquals("x\"yA", m.get("c"));
        assertEquals(-25.0, m.get("d"));
        assertEquals(Map.of(), m.get("e"));
        assertNull(m.get("missing"));
    }

    @Test
    void rejectsMalformedInput() {
        for (String bad : new String[] {"", "[", "[1,]", "{\"a\" 1}", "[1] x", "\"open", "[tru]", "{1:2}"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertEquals(true, e.getMessage().startsWith("invalid JSON at offset"), e.getMessage());
        }
    }
}
