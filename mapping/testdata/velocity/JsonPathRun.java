// JsonPathRun evaluates JSONPath expressions with Jayway JsonPath (Debian libjsonpath-java,
// with json-smart as its JSON provider) and prints each result as json-smart writes it, so the
// Go tests can compare the mapping package's JSONPath subset with the Java implementation AWS
// links to. See README.md.
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import net.minidev.json.JSONValue;

public class JsonPathRun {
    public static void main(String[] args) throws Exception {
        String doc = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
        List<String> paths = Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (String p : paths) {
            String r;
            try {
                Object v = JsonPath.read(doc, p);
                r = JSONValue.toJSONString(v);
            } catch (PathNotFoundException e) {
                r = "!MISSING";
            } catch (Exception e) {
                r = "!ERROR";
            }
            out.append(r).append('\n');
        }
        Files.write(Paths.get(args[2]), out.toString().getBytes(StandardCharsets.UTF_8));
    }
}
