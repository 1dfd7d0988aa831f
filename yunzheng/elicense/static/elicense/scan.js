// Camera scanning on the verify page, where the browser has the BarcodeDetector API (Chrome on
// Android). Elsewhere the button says why it cannot scan and what to do instead: the phone's own
// camera app opens the QR link directly, or the text can be pasted.
(function () {
  "use strict";
  var button = document.getElementById("el-scan");
  var video = document.getElementById("el-video");
  var note = document.getElementById("el-scan-note");
  var field = document.querySelector("textarea[name=payload]");
  if (!button || !video || !field) { return; }
  var explain = function (key) {
    if (!note) { return; }
    note.textContent = note.getAttribute(key);
    note.hidden = false;
  };
  button.addEventListener("click", function () {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      explain("data-no-camera");
      return;
    }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            field.value = codes[0].rawValue;
            field.form.submit();
          } else {
            window.requestAnimationFrame(tick);
          }
        }).catch(function () { window.requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () { explain("data-denied"); });
  });
})();
