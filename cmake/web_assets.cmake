# --- The map page's assets (web/), one directory ---------------------------
# ${GF_WEB_ASSETS} = BUILD/share/geoflux/web (installed as
# PREFIX/share/geoflux/web): the page (web/index.html, style.js, map.js), its
# libraries (MapLibre GL, pmtiles: the npm packages of web/package.json, or
# the same versions in tests/js/node_modules) and the SDF glyphs of its
# labels, made here by tools/glyphs/gf_glyphs.c with FreeType from a Debian
# font. gf_web_install() (src/web/web.c) copies this directory into a SITE
# and `geoflux serve` shows it at /carte/; web/install.sh copies it too.
include(GNUInstallDirs)
set(GF_WEB_ASSETS ${CMAKE_BINARY_DIR}/share/geoflux/web)
# the label font and the glyph ranges French names need (Latin-1, Latin
# Extended-A and -B: œ, Ÿ...; General Punctuation: ’, –)
set(GF_GLYPH_FONT /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf CACHE FILEPATH
    "The font of the map's labels (Debian fonts-dejavu-core)")
set(GF_GLYPH_STACK dejavu-sans-bold)
set(GF_GLYPH_RANGES 0-255 256-511 512-767 8192-8447)

set(GF_WEB_OUTPUTS)
foreach(f index.html style.js map.js)
  add_custom_command(OUTPUT ${GF_WEB_ASSETS}/${f}
    COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/web/${f} ${GF_WEB_ASSETS}/${f}
    DEPENDS ${CMAKE_SOURCE_DIR}/web/${f} VERBATIM)
  list(APPEND GF_WEB_OUTPUTS ${GF_WEB_ASSETS}/${f})
endforeach()

set(GF_WEB_VENDOR maplibre-gl/dist/maplibre-gl.js maplibre-gl/dist/maplibre-gl.css pmtiles/dist/pmtiles.js)
set(GF_WEB_NODE_MODULES "")
foreach(nm ${CMAKE_SOURCE_DIR}/web/node_modules ${CMAKE_SOURCE_DIR}/tests/js/node_modules)
  if(NOT GF_WEB_NODE_MODULES AND EXISTS ${nm}/maplibre-gl/dist/maplibre-gl.js AND EXISTS ${nm}/pmtiles/dist/pmtiles.js)
    set(GF_WEB_NODE_MODULES ${nm})
  endif()
endforeach()
if(GF_WEB_NODE_MODULES)
  foreach(v ${GF_WEB_VENDOR})
    get_filename_component(n ${v} NAME)
    add_custom_command(OUTPUT ${GF_WEB_ASSETS}/vendor/${n}
      COMMAND ${CMAKE_COMMAND} -E copy ${GF_WEB_NODE_MODULES}/${v} ${GF_WEB_ASSETS}/vendor/${n}
      DEPENDS ${GF_WEB_NODE_MODULES}/${v} VERBATIM)
    list(APPEND GF_WEB_OUTPUTS ${GF_WEB_ASSETS}/vendor/${n})
  endforeach()
else()
  message(STATUS "map page: MapLibre GL and pmtiles not found (run tools/setup.sh demo, then cmake again): "
                 "no map page in ${GF_WEB_ASSETS}")
endif()

find_package(Freetype)
if(FREETYPE_FOUND AND EXISTS ${GF_GLYPH_FONT})
  add_executable(gf_glyphs ${CMAKE_SOURCE_DIR}/tools/glyphs/gf_glyphs.c)
  target_link_libraries(gf_glyphs PRIVATE Freetype::Freetype m)
  set(GF_GLYPH_FILES)
  foreach(r ${GF_GLYPH_RANGES})
    list(APPEND GF_GLYPH_FILES ${GF_WEB_ASSETS}/glyphs/${GF_GLYPH_STACK}/${r}.pbf)
  endforeach()
  add_custom_command(OUTPUT ${GF_GLYPH_FILES}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${GF_WEB_ASSETS}/glyphs
    COMMAND gf_glyphs ${GF_WEB_ASSETS}/glyphs ${GF_GLYPH_STACK} ${GF_GLYPH_FONT} ${GF_GLYPH_RANGES}
    DEPENDS gf_glyphs ${GF_GLYPH_FONT}
    COMMENT "SDF glyphs of the map's labels (FreeType, ${GF_GLYPH_FONT})" VERBATIM)
  list(APPEND GF_WEB_OUTPUTS ${GF_GLYPH_FILES})
else()
  message(STATUS "map page: FreeType (libfreetype-dev) or ${GF_GLYPH_FONT} (fonts-dejavu-core) missing: "
                 "no label glyphs, no map page (tools/setup.sh build installs them)")
endif()
add_custom_target(gf_web_assets ALL DEPENDS ${GF_WEB_OUTPUTS})
install(DIRECTORY ${GF_WEB_ASSETS}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/geoflux/web)
# --- end of the map page's assets -------------------------------------------
# where src/web/web.c looks for the assets, after $GEOFLUX_WEB and EXEDIR/../share/geoflux/web
set_property(SOURCE ${CMAKE_SOURCE_DIR}/src/web/web.c APPEND PROPERTY COMPILE_DEFINITIONS
  GF_WEB_BUILD_DIR="${GF_WEB_ASSETS}" GF_WEB_INSTALL_DIR="${CMAKE_INSTALL_FULL_DATADIR}/geoflux/web"
  GF_WEB_GLYPH_PROBE="glyphs/${GF_GLYPH_STACK}/0-255.pbf")
add_dependencies(geoflux_cli gf_web_assets)
