"""Input: finding images (sources), decoding them, the decode cache, the loader and the demo set."""
