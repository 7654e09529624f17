import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;

// The seed document's Java client, unchanged but for where the endpoint comes from: the first
// argument, else the API_URL environment variable, else the example API on a local localpipe
// (../localpipe.yaml). On AWS, pass https://<your-api-id>.execute-api.<region>.amazonaws.com/prod/stream.
//
//   javac -d /tmp KinesisDataStreamExample.java && java -cp /tmp KinesisDataStreamExample
public class KinesisDataStreamExample {
    public static void main(String[] args) {
        try {
            // API Gateway Endpoint
            String apiUrl = "http://127.0.0.1:4566/restapis/seedapi001/prod/_user_request_/stream";
            if (args.length > 0) {
                apiUrl = args[0];
            } else if (System.getenv("API_URL") != null && !System.getenv("API_URL").isEmpty()) {
                apiUrl = System.getenv("API_URL");
            }

            // Data to send
            String jsonData = "{ \"message\": \"Hello, Kinesis!\" }";

            // Create a connection
            URL url = new URL(apiUrl);
            HttpURLConnection connection = (HttpURLConnection) url.openConnection();

            // Configure the request
            connection.setDoOutput(true);
            connection.setRequestMethod("POST");
            connection.setRequestProperty("Content-Type", "application/json");

            // Send data
            OutputStream os = connection.getOutputStream();
            os.write(jsonData.getBytes());
            os.flush();
            os.close();

            // Get response
            int responseCode = connection.getResponseCode();
            System.out.println("Response Code: " + responseCode);

        } catch (Exception e) {
            e.printStackTrace();
        }
    }
}
