// Getting text out of the page: file downloads and the clipboard.

/**
 * Offers `text` as a file download through a Blob URL.
 * @param {string} filename
 * @param {string} text
 * @param {string} mimeType
 */
export function downloadText(filename, text, mimeType) {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke later: the download may start after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Whether this document may use the asynchronous clipboard API. A frame of another origin than
 * the page holding it (TensorBoard in a notebook's iframe) is not given `clipboard-write`: there
 * the browser refuses the call and logs a permissions-policy error in the console.
 * @returns {boolean}
 */
function clipboardApiAllowed() {
  const policy = document.permissionsPolicy ?? document.featurePolicy;
  if (!navigator.clipboard) return false;
  return typeof policy?.allowsFeature !== "function" || policy.allowsFeature("clipboard-write");
}

/**
 * Copies `text` to the clipboard; falls back to a hidden textarea where the
 * asynchronous clipboard API is unavailable (e.g. not allowed in an iframe of
 * another origin, or refused).
 * @param {string} text
 * @returns {Promise<boolean>} whether copying succeeded
 */
export async function copyText(text) {
  try {
    if (!clipboardApiAllowed()) throw new Error("clipboard-write is not allowed in this frame");
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    // The text as it is: a textarea's selection turns "\r\n" row ends (and a name's "\r") into "\n".
    const exact = (event) => {
      event.clipboardData.setData("text/plain", text);
      event.preventDefault();
    };
    document.addEventListener("copy", exact);
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    document.removeEventListener("copy", exact);
    area.remove();
    return copied;
  }
}

/**
 * A file name fragment safe on every platform.
 * @param {string} text
 * @returns {string}
 */
export function safeFilePart(text) {
  return String(text).replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "data";
}
