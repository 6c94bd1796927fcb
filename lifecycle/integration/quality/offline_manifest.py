"""What the offline Data Docs vendor: each CDN URL GX 1.24 writes, and every vendored file's sha256.

Data only, kept apart from :mod:`lifecycle.integration.quality.offline_docs` so the logic reads on its own. The files
live in ``lifecycle/integration/quality/offline_assets/<package>@<version>/`` exactly as the npm package ships them
(``npm pack <package>@<version>``); its README gives the tarballs' sha256 and the licences. A unit test
checks that this table, the folder and the README agree.
"""

from __future__ import annotations

# CDN URL as GX 1.24 writes it -> vendored file (relative to the assets folder).
CDN_ASSETS: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap@4.3.1/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap@4.3.1/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js":
        "jquery@3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js@1.12.9/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker@1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker@1.9.0/dist/js/bootstrap-datepicker.min.js",
    # GX links the unminified file (883 kB, most of it an inline source map): same release, minified upstream.
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "forevolve-bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free@6.6.0/css/all.min.css",
    # GX asks jsDelivr for the newest release of a major version: pinned to the newest on npm when vendored.
    "https://cdn.jsdelivr.net/npm/vega@5":
        "vega@5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5":
        "vega-lite@5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6":
        "vega-embed@6.29.0/build/vega-embed.min.js",
}

# Every vendored file (the assets, the fonts their CSS loads, the licences) -> its sha256.
VENDORED_FILES: dict[str, str] = {
    "bootstrap-datepicker@1.9.0/LICENSE":
        "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30",
    "bootstrap-datepicker@1.9.0/dist/css/bootstrap-datepicker.min.css":
        "b22c8ea45fe905650f8087108b5ed32c1923bcd80d400adc9b0241f18be40208",
    "bootstrap-datepicker@1.9.0/dist/js/bootstrap-datepicker.min.js":
        "6ea55ea86749ee1fe560fabac6b3effd81b33046fa74dc657e24d41d28110a9f",
    "bootstrap-table@1.19.0/LICENSE":
        "fb50e42cb539382385f8d66572fef8ec08a34dd7dc00ba7a5ce0668d225dc35b",
    "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "b3ff051168696ec9ae3cf8616c59a6db8734fb282863b23edfd8c0f93eb5c4f0",
    "bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "2c707bb54520737762a76f2238e87627993fb63bcef6d789a21a4957f393fa1c",
    "bootstrap-table@1.19.1/LICENSE":
        "fb50e42cb539382385f8d66572fef8ec08a34dd7dc00ba7a5ce0668d225dc35b",
    "bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "643f536f6982af4d7287af23f89ad457dd7e4a82f9c695330a112b0881c30a4a",
    "bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "06a571a9beb50bd5ddd60517159775dfec1f3e798fff38fb117ae2350dc9ba9d",
    "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "111f68d31d1bdd714f9503bf5f4e162e0739c363e4ff2feef950d39e78266ffc",
    "bootstrap@4.3.1/LICENSE":
        "074d99b8c25d13649dac52080900ee8c8d2373d07ea3f4fb67bd2bf79aa8cc72",
    "bootstrap@4.3.1/dist/css/bootstrap.min.css":
        "60b19e5da6a9234ff9220668a5ec1125c157a268513256188ee80f2d2c8d8d36",
    "bootstrap@4.3.1/dist/js/bootstrap.min.js":
        "0a34a87842c539c1f4feec56bba982fd596b73500046a6e6fe38a22260c6577b",
    "fontawesome-free@6.6.0/LICENSE.txt":
        "9b914eae88817d63b576eab5aafde7068c7a1abae125d7cdfb034f1da43a9afc",
    "fontawesome-free@6.6.0/css/all.min.css":
        "e5e202e3c899507992952533f57b634722b69b34241d271963559d31aa33ef81",
    "fontawesome-free@6.6.0/webfonts/fa-brands-400.woff2":
        "c411f11975d26eb04cd2aa3c071181d4b18e489f1fb97060d4176a3531dfb36e",
    "fontawesome-free@6.6.0/webfonts/fa-regular-400.woff2":
        "c732f106e91bc618767fbac8e2c7b27e5c736d477b2bb4fb83f597a43198c33c",
    "fontawesome-free@6.6.0/webfonts/fa-solid-900.woff2":
        "1f0189e087fcefbf654fad74a3a06668b782c01353a61d5c0b7f0bf23e33c020",
    "fontawesome-free@6.6.0/webfonts/fa-v4compatibility.woff2":
        "2aca24b35bd41474dcc5e7fb5f11ec43fa06e3ac1d0035ad41108fa6b30b0871",
    "forevolve-bootstrap-dark@1.1.0/LICENSE":
        "43be5d79d2ec3d6d876e1874d27506cbe55024b18afc55f1fc830aaaedc0313d",
    "forevolve-bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.min.css":
        "424070f1f798087a68c110a776228f9eaae5406df143940faa67d77344293ac8",
    "jquery@3.7.1/LICENSE.txt":
        "d4db9ebe6f29f5168eac45ad713f055623ac5d0dcd5ba92da23d650ae012020d",
    "jquery@3.7.1/dist/jquery.min.js":
        "fc9a93dd241f6b045cbff0481cf4e1901becd0e12fb45166a8f17f95823f0b1a",
    "popper.js@1.12.9/LICENSE.note":
        "66e353bb1e899d4aa30cfa7b575f15cfb241fbd1c491b57e2581905616166164",
    "popper.js@1.12.9/dist/umd/popper.min.js":
        "a52f7aa54d7bcaafa056ee0a050262dfc5694ae28dee8b4cac3429af37ff0d66",
    "vega-embed@6.29.0/LICENSE":
        "32df67148f0fc3db0eb9e263a7b75d07f1eb14c61955005a4a39c6918d10d137",
    "vega-embed@6.29.0/build/vega-embed.min.js":
        "12d02acfbe3ec59ef9a37dd4822a2e04e2961b5bbb671bbe661d2221715b99da",
    "vega-lite@5.23.0/LICENSE":
        "f618900fd0d64046963b29f40590cdd1e341a2f41449f99110d82fd81fea808c",
    "vega-lite@5.23.0/build/vega-lite.min.js":
        "58c27358e26f2d319cf62f45bc17a4c8362f08645001df2ec8d341eee4097c7f",
    "vega@5.33.1/LICENSE.note":
        "b1d0fe220ec4cfc2d570bc134ec703bcf792d50f9b55f0a2d626e6e38bd86ad5",
    "vega@5.33.1/build/vega.min.js":
        "463f3db6a40b20e9747b4ed38f37ed0add508838f9141b1cf8366784b07b30c8",
}
