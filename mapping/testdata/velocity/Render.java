// Render renders every *.vm template in a directory with stock Apache Velocity 1.7 and writes
// the output next to it as *.out, so the Go tests can compare the mapping package against the
// reference engine without needing Java. See README.md.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

public class Render {
    // AWS prints a null reference as empty text (aws-semantics.md A.1) where stock Velocity
    // prints its source; the harness applies the same rule so outputs stay comparable.
    public static class EmptyNull implements org.apache.velocity.app.event.ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) {
            return value == null ? "" : value;
        }
    }

    // The context must match goldenVars in mapping/golden_test.go.
    static VelocityContext context() {
        VelocityContext c = new VelocityContext();
        c.put("name", "world");
        c.put("n", Integer.valueOf(3));
        c.put("zero", Integer.valueOf(0));
        c.put("d", Double.valueOf(1.5));
        c.put("flag", Boolean.TRUE);
        c.put("off", Boolean.FALSE);
        c.put("empty", "");
        c.put("util", new org.apache.commons.lang.StringEscapeUtils());
        c.put("quote", "it's \"q\" <b>&amp;</b>");
        List<Object> list = new ArrayList<Object>();
        list.add(Integer.valueOf(1));
        list.add("two");
        list.add(Double.valueOf(3.5));
        c.put("list", list);
        Map<String, Object> m = new LinkedHashMap<String, Object>();
        m.put("a", Integer.valueOf(1));
        m.put("b", "x");
        m.put("partition-key", "pk");
        m.put("nested", new LinkedHashMap<String, Object>(Collections.singletonMap("k", "v")));
        m.put("items", new ArrayList<Object>(Arrays.asList("p", "q")));
        c.put("map", m);
        // The shape of $input.params() for A.9 #2.
        Map<String, Object> params = new LinkedHashMap<String, Object>();
        params.put("path", new LinkedHashMap<String, Object>(Collections.singletonMap("id", "abc")));
        Map<String, Object> qs = new LinkedHashMap<String, Object>();
        qs.put("q", "a/b");
        qs.put("r", "x");
        params.put("querystring", qs);
        params.put("header", new LinkedHashMap<String, Object>());
        c.put("params", params);
        return c;
    }

    public static void main(String[] args) throws Exception {
        VelocityEngine ve = new VelocityEngine();
        ve.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        // Each template is its own: without this, Velocity 1.7 keeps inline macros in a
        // global namespace and one template's #macro leaks into the next.
        ve.setProperty("velocimacro.permissions.allow.inline.local.scope", "true");
        if (System.getenv("RENDER_STOCK") == null) {
            ve.setProperty("eventhandler.referenceinsertion.class", "Render$EmptyNull");
        }
        ve.init();
        File dir = new File(args[0]);
        File[] files = dir.listFiles((d, n) -> n.endsWith(".vm"));
        Arrays.sort(files);
        for (File f : files) {
            String src = new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8);
            String out;
            try {
                StringWriter w = new StringWriter();
                ve.evaluate(context(), w, f.getName(), src);
                out = w.toString();
            } catch (Exception e) {
                // Only the fact of the error is compared; messages differ between engines.
                out = "!ERROR\n";
                if (System.getenv("RENDER_DEBUG") != null) System.err.println(f.getName() + ": " + e);
            }
            String base = f.getPath().substring(0, f.getPath().length() - 3);
            Files.write(Paths.get(base + ".out"), out.getBytes(StandardCharsets.UTF_8));
        }
    }
}
