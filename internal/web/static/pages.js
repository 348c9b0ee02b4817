// The set-up link carries its token in the URL fragment (#token=…), which
// browsers never send to the server, put in Referer headers or proxy logs.
// Move it into the form and drop it from the address bar.
const field = document.getElementById('token');
const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (field && m) {
  field.value = decodeURIComponent(m[1]);
  history.replaceState(null, '', location.pathname);
}
