import React from "react";
import { createRoot } from "react-dom/client";
import KinesisIntegration from "./KinesisIntegration.jsx";

createRoot(document.getElementById("root")).render(
  <React.StrictMode>
    <KinesisIntegration />
  </React.StrictMode>
);
