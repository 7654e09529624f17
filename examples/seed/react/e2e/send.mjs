// Drives the built app in headless Chromium as a person would: type a message, click Send,
// wait for the component's answer. Prints the answer and exits 0 when it is the success line.
//   node e2e/send.mjs PAGE_URL MESSAGE [CHROMIUM]
import { chromium } from "playwright-core";

const [pageURL, message, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
if (!pageURL || !message) {
  console.error("usage: node e2e/send.mjs PAGE_URL MESSAGE [CHROMIUM]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath,
  // Root in a container has no user namespace for Chromium's sandbox.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let code = 1;
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`console.${m.type()}: ${m.text()}`));
  page.on("requestfailed", (r) => console.error(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(pageURL);
  await page.getByPlaceholder("Enter your message").fill(message);
  await page.getByRole("button", { name: "Send" }).click();
  const answer = page.locator("p", { hasText: /^(Data sent successfully|Error sending data)/ });
  await answer.waitFor({ timeout: 20000 });
  const text = await answer.textContent();
  console.log(text);
  code = text === "Data sent successfully: 200" ? 0 : 1;
} finally {
  await browser.close();
}
process.exit(code);
