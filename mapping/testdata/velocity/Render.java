// Render renders every *.vm template in a directory with stock Apache Velocity 1.7 and writes
// the output next to it as *.out, so the Go tests can compare the mapping package against the
// reference engine without needing Java. See README.md.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.InvalidJsonException;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import net.minidev.json.JSONValue;
import net.minidev.json.parser.ParseException;

public class Render {
    // AWS prints a null reference as empty text (aws-semantics.md A.1) where stock Velocity
    // prints its source; the harness applies the same rule so outputs stay comparable.
    public static class EmptyNull implements org.apache.velocity.app.event.ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) {
            return value == null ? "" : value;
        }
    }

    // Input is $input the way AWS's recorded behaviour shows it works: JSONPath by Jayway
    // JsonPath over its default json-smart provider (objects become LinkedHashMap, printed
    // {k=v}; arrays JSONArray, printed as compact JSON). The rules below that are AWS's and
    // not Jayway's are the ones listed in awsDifferences in mapping/golden_test.go.
    public static class Input {
        private final String body;
        private final Object doc;
        private final Map<String, Map<String, String>> params;

        Input(String body, Map<String, Map<String, String>> params) {
            // AWS reads an empty body as {} (aws-semantics.md A.1).
            this.body = body.isEmpty() ? "{}" : body;
            Object d;
            try {
                d = parseJson(this.body);
            } catch (RuntimeException e) {
                d = NOT_JSON;
            }
            this.doc = d;
            this.params = params;
        }

        static final Object NOT_JSON = new Object();

        // AWS answers $input.path or $input.json of a body that is not JSON with 400 "Could
        // not parse request body into json"; the render fails here too. (What json-smart's
        // permissive parser accepts, a bare token or single quotes, it reads; AWS does not:
        // awsCaseDifferences in mapping/aws_test.go.)
        private Object doc() {
            if (doc == NOT_JSON) throw new IllegalArgumentException("Could not parse request body into json");
            return doc;
        }

        public String getBody() { return body; }

        // A definite path that matches nothing is null (AWS prints it as nothing).
        public Object path(String p) {
            Object doc = doc();
            try {
                return JsonPath.read(doc, p);
            } catch (PathNotFoundException e) {
                return null;
            }
        }

        // A missing path gives "" (a JSON empty string), as LocalStack does; unverified for AWS.
        public String json(String p) {
            Object doc = doc();
            try {
                return JSONValue.toJSONString(JsonPath.read(doc, p));
            } catch (PathNotFoundException e) {
                return "\"\"";
            }
        }

        public Map<String, Map<String, String>> params() { return params; }

        // Path, then query string, then header; not found is "" (LocalStack; unverified for AWS).
        public String params(String name) {
            for (Map<String, String> m : params.values()) {
                if (m.containsKey(name)) return m.get(name);
            }
            return "";
        }
    }

    // Util is $util: escapeJavaScript is Commons Lang 2.6 itself; the rest are the JDK's
    // codecs, as AWS documents them (form encoding, base64 of the UTF-8 bytes). Like the Go
    // package, a null argument gives null and other values are converted to text.
    public static class Util {
        static String text(Object o) { return String.valueOf(o); }
        public String escapeJavaScript(Object s) { return s == null ? null : org.apache.commons.lang.StringEscapeUtils.escapeJavaScript(text(s)); }
        public String urlEncode(Object s) throws Exception { return s == null ? null : java.net.URLEncoder.encode(text(s), "UTF-8"); }
        public String urlDecode(Object s) throws Exception { return s == null ? null : java.net.URLDecoder.decode(text(s), "UTF-8"); }
        public String base64Encode(Object s) { return s == null ? null : Base64.getEncoder().encodeToString(text(s).getBytes(StandardCharsets.UTF_8)); }
        public String base64Decode(Object s) { return s == null ? null : new String(Base64.getDecoder().decode(text(s)), StandardCharsets.UTF_8); }
        public Object parseJson(Object s) { return s == null ? null : Render.parseJson(text(s)); }
    }

    static String body = "";

    // parseJson is Jayway's json-smart provider, as AWS parses. Debian's json-smart (its
    // CVE-2023-1370 patch) miscounts depth and rejects an array of 399 or more objects
    // ("Malicious payload, having non natural depths"); such a document is read again by
    // StrictJson into the same objects. If that fails too the harness stops (an Error, which
    // no template's catch takes), so a large input is never compared as a silent error.
    static Object parseJson(String s) {
        try {
            return Configuration.defaultConfiguration().jsonProvider().parse(s);
        } catch (InvalidJsonException e) {
            if (!(e.getCause() instanceof ParseException)
                    || ((ParseException) e.getCause()).getErrorType() != ParseException.ERROR_UNEXPECTED_JSON_DEPTH) {
                throw e;
            }
            try {
                return new StrictJson(s).document();
            } catch (RuntimeException e2) {
                throw new AssertionError("the harness cannot parse a document json-smart rejected for its depth: " + e2, e2);
            }
        }
    }

    // StrictJson reads RFC 8259 JSON into json-smart's objects under Jayway: LinkedHashMap,
    // JSONArray, String, Boolean, null, and numbers by json-smart's model (Integer, Long or
    // BigInteger by size; a decimal longer than 18 characters a BigDecimal, else a Double).
    static final class StrictJson {
        private final String s;
        private int i;

        StrictJson(String s) { this.s = s; }

        Object document() {
            ws();
            Object v = value();
            ws();
            if (i != s.length()) throw fail("trailing data");
            return v;
        }

        private RuntimeException fail(String what) { return new IllegalArgumentException(what + " at " + i); }

        private void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
        }

        private Object value() {
            if (i >= s.length()) throw fail("end of input");
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<String, Object>();
                i++;
                ws();
                if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws();
                    if (i >= s.length() || s.charAt(i) != '"') throw fail("expected a key");
                    String k = string();
                    ws();
                    if (i >= s.length() || s.charAt(i) != ':') throw fail("expected :");
                    i++;
                    ws();
                    m.put(k, value());
                    ws();
                    if (i < s.length() && s.charAt(i) == ',') { i++; continue; }
                    if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
                    throw fail("expected , or }");
                }
            }
            if (c == '[') {
                net.minidev.json.JSONArray a = new net.minidev.json.JSONArray();
                i++;
                ws();
                if (i < s.length() && s.charAt(i) == ']') { i++; return a; }
                while (true) {
                    ws();
                    a.add(value());
                    ws();
                    if (i < s.length() && s.charAt(i) == ',') { i++; continue; }
                    if (i < s.length() && s.charAt(i) == ']') { i++; return a; }
                    throw fail("expected , or ]");
                }
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            return number();
        }

        private String string() {
            StringBuilder b = new StringBuilder();
            i++;
            while (true) {
                if (i >= s.length()) throw fail("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                if (i >= s.length()) throw fail("unterminated escape");
                char e = s.charAt(i++);
                switch (e) {
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'n': b.append('\n'); break;
                    case 'r': b.append('\r'); break;
                    case 't': b.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) throw fail("short \\u escape");
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    case '"': case '\\': case '/': b.append(e); break;
                    default: throw fail("bad escape");
                }
            }
        }

        private Object number() {
            int start = i;
            boolean decimal = false;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                if (".eE".indexOf(s.charAt(i)) >= 0) decimal = true;
                i++;
            }
            String t = s.substring(start, i);
            if (t.isEmpty()) throw fail("unexpected character");
            if (decimal) return t.length() > 18 ? (Object) new java.math.BigDecimal(t) : (Object) Double.valueOf(t);
            java.math.BigInteger n = new java.math.BigInteger(t);
            if (n.bitLength() < 32) return Integer.valueOf(n.intValue());
            if (n.bitLength() < 64) return Long.valueOf(n.longValue());
            return n;
        }
    }

    // caseContext is the context for a template that comes with a NAME.json request (the
    // AWS example cases): its body, parameters (each map sorted by name, as the Go side
    // orders them), $context and $stageVariables.
    @SuppressWarnings("unchecked")
    static VelocityContext caseContext(String json) {
        Map<String, Object> req = (Map<String, Object>) Configuration.defaultConfiguration().jsonProvider().parse(json);
        VelocityContext c = new VelocityContext();
        c.put("util", new Util());
        Map<String, Map<String, String>> ip = new LinkedHashMap<String, Map<String, String>>();
        for (String[] k : new String[][] {{"path", "path"}, {"querystring", "query"}, {"header", "header"}}) {
            Map<String, String> m = new TreeMap<String, String>();
            Object v = req.get(k[1]);
            if (v != null) m.putAll((Map<String, String>) v);
            ip.put(k[0], m);
        }
        Object b = req.get("body");
        c.put("input", new Input(b == null ? "" : (String) b, ip));
        Object ctx = req.get("context");
        c.put("context", ctx == null ? new LinkedHashMap<String, Object>() : ctx);
        Map<String, String> sv = new TreeMap<String, String>();
        if (req.get("stage") != null) sv.putAll((Map<String, String>) req.get("stage"));
        c.put("stageVariables", sv);
        return c;
    }

    // The context must match goldenInput in mapping/golden_test.go.
    static VelocityContext context() {
        VelocityContext c = new VelocityContext();
        c.put("name", "world");
        c.put("n", Integer.valueOf(3));
        c.put("zero", Integer.valueOf(0));
        c.put("d", Double.valueOf(1.5));
        c.put("flag", Boolean.TRUE);
        c.put("off", Boolean.FALSE);
        c.put("empty", "");
        c.put("util", new Util());
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
        Map<String, Map<String, String>> ip = new LinkedHashMap<String, Map<String, String>>();
        ip.put("path", new LinkedHashMap<String, String>(Collections.singletonMap("stream-name", "s1")));
        Map<String, String> iq = new LinkedHashMap<String, String>();
        iq.put("q", "a/b");
        iq.put("stream-name", "from-query");
        ip.put("querystring", iq);
        ip.put("header", new LinkedHashMap<String, String>(Collections.singletonMap("Accept", "*/*")));
        c.put("input", new Input(body, ip));
        return c;
    }

    // serve renders requests from stdin until it closes, for FuzzVelocityOracle: each request
    // is a template and a body, each as a decimal byte count, a newline and the UTF-8 bytes;
    // each answer is the output the same way, or the count -1 when the render failed. The
    // context is context() with $input over the request's body.
    static void serve(VelocityEngine ve) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        OutputStream out = new BufferedOutputStream(System.out);
        while (true) {
            byte[] src = frame(in), req = frame(in);
            if (src == null || req == null) return;
            body = new String(req, StandardCharsets.UTF_8);
            byte[] answer;
            try {
                StringWriter w = new StringWriter();
                ve.evaluate(context(), w, "fuzz", new String(src, StandardCharsets.UTF_8));
                answer = w.toString().getBytes(StandardCharsets.UTF_8);
            } catch (AssertionError e) {
                throw e; // the harness itself failed (parseJson)
            } catch (Throwable e) {
                // StackOverflowError and the like are Velocity's failures too.
                answer = null;
            }
            if (answer == null) {
                out.write("-1\n".getBytes(StandardCharsets.UTF_8));
            } else {
                out.write((answer.length + "\n").getBytes(StandardCharsets.UTF_8));
                out.write(answer);
            }
            out.flush();
        }
    }

    static byte[] frame(DataInputStream in) throws IOException {
        StringBuilder n = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) return null;
            n.append((char) c);
        }
        byte[] b = new byte[Integer.parseInt(n.toString())];
        in.readFully(b);
        return b;
    }

    public static void main(String[] args) throws Exception {
        VelocityEngine ve = new VelocityEngine();
        ve.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        // Each template is its own: without this, Velocity 1.7 keeps inline macros in a
        // global namespace and one template's #macro leaks into the next.
        ve.setProperty("velocimacro.permissions.allow.inline.local.scope", "true");
        // AWS's limit of 1000 iterations per #foreach (aws-semantics.md A.5).
        ve.setProperty("directive.foreach.maxloops", "1000");
        if (System.getenv("RENDER_STOCK") == null) {
            ve.setProperty("eventhandler.referenceinsertion.class", "Render$EmptyNull");
        }
        ve.init();
        if (args.length > 0 && args[0].equals("--serve")) {
            serve(ve);
            return;
        }
        if (args.length > 1) body = new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8).trim();
        File dir = new File(args[0]);
        File[] files = dir.listFiles((d, n) -> n.endsWith(".vm"));
        Arrays.sort(files);
        for (File f : files) {
            String src = new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8);
            String out;
            try {
                StringWriter w = new StringWriter();
                File req = new File(f.getPath().substring(0, f.getPath().length() - 3) + ".json");
                VelocityContext ctx = req.exists()
                    ? caseContext(new String(Files.readAllBytes(req.toPath()), StandardCharsets.UTF_8))
                    : context();
                ve.evaluate(ctx, w, f.getName(), src);
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
