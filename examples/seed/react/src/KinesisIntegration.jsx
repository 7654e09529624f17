import React, { useState } from "react";
import axios from "axios";

// The seed document's component, unchanged but for where the API URL comes from: the
// VITE_API_URL build-time variable instead of a hard-coded execute-api URL.
const KinesisIntegration = () => {
  const [message, setMessage] = useState("");
  const [response, setResponse] = useState("");

  const sendDataToKinesis = async () => {
    const apiUrl = import.meta.env.VITE_API_URL;

    try {
      const res = await axios.post(apiUrl, { message }, {
        headers: {
          "Content-Type": "application/json",
        },
      });
      setResponse(`Data sent successfully: ${res.status}`);
    } catch (error) {
      setResponse(`Error sending data: ${error.message}`);
    }
  };

  return (
    <div style={{ padding: "20px" }}>
      <h2>Send Data to Kinesis</h2>
      <textarea
        placeholder="Enter your message"
        value={message}
        onChange={(e) => setMessage(e.target.value)}
        rows="5"
        cols="40"
      />
      <br />
      <button onClick={sendDataToKinesis} style={{ marginTop: "10px" }}>
        Send
      </button>
      {response && <p>{response}</p>}
    </div>
  );
};

export default KinesisIntegration;
