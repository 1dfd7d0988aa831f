// Optional camera scanning on the verify page, where the browser has the BarcodeDetector API
// (Chrome on Android). Everywhere else the phone's own camera app opens the QR link directly.
(function () {
  "use strict";
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  var button = document.getElementById("el-scan");
  var video = document.getElementById("el-video");
  var field = document.querySelector("textarea[name=payload]");
  if (!button || !video || !field) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
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
    });
  });
})();
