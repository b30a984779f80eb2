/*
 * The reference for pinpipe's JSON encoding (tests/sink/jackson_oracle.py runs it): what the
 * Confluent S3 sink writes for a record value with JsonConverter (schemas.enable=false) and
 * JsonFormat. It repeats JsonConverter's schemaless conversion (objects -> HashMap, arrays ->
 * ArrayList, integral numbers -> longValue(), other numbers -> doubleValue()) and writes the
 * result as JsonRecordWriterProvider does: a default ObjectMapper's generator, then "\n".
 *
 * stdin: one base64 value per line; stdout per line: "OK <base64 of the bytes written>",
 * "NULL" (a null value: the connector fails on it) or "ERR <exception>".
 */
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class JacksonOracle {
    static Object convert(JsonNode v) {
        switch (v.getNodeType()) {
            case NULL: case MISSING: return null;
            case BOOLEAN: return v.booleanValue();
            case NUMBER: return v.isIntegralNumber() ? (Object) v.longValue() : (Object) v.doubleValue();
            case STRING: return v.textValue();
            case ARRAY: { ArrayList<Object> r = new ArrayList<>(); for (JsonNode e : v) r.add(convert(e)); return r; }
            case OBJECT: { Map<Object,Object> r = new HashMap<>(); Iterator<Map.Entry<String,JsonNode>> it = v.fields();
                while (it.hasNext()) { Map.Entry<String,JsonNode> e = it.next(); r.put(e.getKey(), convert(e.getValue())); } return r; }
            default: throw new RuntimeException("unsupported " + v.getNodeType());
        }
    }
    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            byte[] raw = Base64.getDecoder().decode(line.trim());
            try {
                JsonNode node = mapper.readTree(raw);
                if (node == null || node.isNull() || node.isMissingNode()) { out.println("NULL"); continue; }
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                JsonGenerator w = mapper.getFactory().createGenerator(buf).setRootValueSeparator(null);
                w.writeObject(convert(node));
                w.writeRaw("\n");
                w.flush();
                out.println("OK " + Base64.getEncoder().encodeToString(buf.toByteArray()));
            } catch (Exception e) {
                out.println("ERR " + e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).split("\n")[0]);
            }
        }
    }
}
