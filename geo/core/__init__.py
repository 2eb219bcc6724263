"""The ground floor: the vocabulary every room shares, importing no room.

- :mod:`geo.core.layers`: the layer model read from ``layers/*.toml`` (:class:`Layer`, stations,
  crossings);
- :mod:`geo.core.kinds`: the layer kinds (:class:`LayerKind`, :func:`kind_of`), the facts every room asks for;
- :mod:`geo.core.stations`: where a layer's stations and crossings are, offline;
- :mod:`geo.core.place`: the place record, :class:`Place`;
- :mod:`geo.core.names`: name folding (:func:`fold`, :func:`variant_key`);
- :mod:`geo.core.selectors`: Overpass tag selectors, parsed and checked.
"""
