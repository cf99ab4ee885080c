// Stand-in when the build had no libjs-dygraphs: the page says charts are unavailable.
window.Dygraph = null;
