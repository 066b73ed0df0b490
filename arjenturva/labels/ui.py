"""The interface words of maps, the web map, reports and briefs (see :mod:`arjenturva.labels`)."""

from __future__ import annotations

from typing import Final

from .words import Word

UI: Final[dict[str, Word]] = {
    "overview_title": Word(
        "{name} ({code}): arjen palvelujen saavutettavuus", "{name} ({code}): access to everyday services"
    ),
    "overview_sub": Word(
        "Ruudun väri: kuinka monta palvelua ({n}) jää kynnysetäisyyden ulkopuolelle",
        "Cell colour: how many of the {n} services are beyond their threshold",
    ),
    "threshold": Word("Kynnys", "Threshold"),
    "demand": Word("Kysyntä", "Demand"),
    "reach_title": Word(
        "{label}: matka lähimpään pisteeseen suhteessa kynnykseen",
        "{label}: distance to the nearest point against the threshold",
    ),
    "reach_title_muni": Word(
        "{name} ({code}) · {label}: matka suhteessa kynnykseen",
        "{name} ({code}) · {label}: distance against the threshold",
    ),
    "legend_reach": Word("Matka suhteessa ruudun kynnykseen", "Distance against the cell's threshold"),
    "reach_half": Word("enintään puolet kynnyksestä", "within half the threshold"),
    "reach_within": Word("½–1 × kynnys", "½–1 × the threshold"),
    "reach_partial": Word("osittain: vain liikkuva tai etäpalvelu", "partly: mobile or remote only"),
    "reach_double": Word("1–2 × kynnys, ei katettu", "1–2 × the threshold, not covered"),
    "reach_beyond": Word("yli 2 × kynnys", "over 2 × the threshold"),
    "legend_gaps_outlined": Word("Palveluaukko, vähintään {n} ruutua", "Coverage gap of {n} or more cells"),
    "legend_place": Word("kylä tai keskus", "village or centre"),
    "proposed_mode": Word("ehdotettu: {mode}", "proposed: {mode}"),
    "legend_lacking": Word("Palveluja saavuttamatta", "Services out of reach"),
    "basket_section": Word("Arkiturva-kori", "Everyday service basket"),
    "basket_services": Word("Korin palvelut", "Services in the basket"),
    "basket_note": Word(
        "Osuus asukkaista, jotka saavuttavat korin kaikki palvelut kynnysetäisyyksiensä sisällä, ja "
        "asukkaat, joilta puuttuu 1, 2 tai 3 tai useampi korin palvelu (summary.csv, rivi ALL).",
        "The share of residents reaching every service of the basket within its threshold, and the "
        "residents lacking 1, 2, or 3 or more of its services (summary.csv, row ALL).",
    ),
    "basket_share": Word("Koko kori saavutettavissa", "Reaching the whole basket"),
    "basket_share_65_plus": Word("65 vuotta täyttäneistä koko kori", "Aged 65+ reaching the whole basket"),
    "basket_lacking_1": Word("Puuttuu 1 palvelu", "Lacking 1 service"),
    "basket_lacking_2": Word("Puuttuu 2 palvelua", "Lacking 2 services"),
    "basket_lacking_3_plus": Word("Puuttuu 3 tai useampi", "Lacking 3 or more"),
    "basket_title": Word("Arkiturva-kori: puuttuvat palvelut", "Everyday service basket: services lacking"),
    "basket_sub": Word("Korissa: {services}", "In the basket: {services}"),
    "legend_basket_lacking": Word("Korin palveluja puuttuu", "Basket services lacking"),
    "basket_muni_title": Word(
        "Arkiturva-kori kunnittain: koko korin saavuttavat", "Everyday service basket by municipality"
    ),
    "basket_muni_sub": Word(
        "Osuus asukkaista, jotka saavuttavat koko korin ({services})",
        "Share of residents reaching the whole basket ({services})",
    ),
    "legend_basket_share": Word("Koko korin saavuttavat", "Residents reaching the whole basket"),
    "basket_caption": Word(
        "Arkiturva-kori: kuinka monta korin palvelua ruudulta puuttuu",
        "Everyday service basket: how many of its services each cell lacks",
    ),
    "basket_muni_caption": Word(
        "Arkiturva-kori kunnittain: koko korin saavuttavien osuus",
        "Everyday service basket by municipality: share reaching the whole basket",
    ),
    "stress_section": Word("Kun toimija lopettaa", "When an actor leaves"),
    "stress_note": Word(
        "Kysyntä, joka jäisi palvelun kattavuuden ulkopuolelle, jos toimijan palvelupisteet "
        "suljettaisiin; {n} suurinta (kaikki: stress.csv).",
        "Demand that would lose coverage of a service if the actor's service points closed; the {n} "
        "largest (all of them: stress.csv).",
    ),
    "stress_demand": Word("Kattavuuden menettävä kysyntä", "Demand losing coverage"),
    "stress_65_plus": Word("Heistä 65 vuotta täyttäneitä", "Of them aged 65+"),
    "unreachable": Word("ei tieyhteyttä", "no road connection"),
    "legend_points": Word("Palvelupisteet", "Service points"),
    "legend_gaps": Word("Palveluaukko (alue)", "Coverage gap (area)"),
    "new_site": Word("ehdotettu uusi piste", "proposed new site"),
    "proposal": Word("ehdotettu reitti tai kohde", "proposed route or site"),
    "legend_roads": Word("Tiet", "Roads"),
    "main": Word("valta- ja kantatiet", "main roads"),
    "regional": Word("seututiet", "regional roads"),
    "local": Word("muut tiet", "other roads"),
    "ferry": Word("lautta", "ferry"),
    "legend_other": Word("Muut", "Other"),
    "border": Word("kunnan raja", "municipal border"),
    "legend_context": Word("naapurikunta, ei tarkastelussa", "neighbouring municipality, not analysed"),
    "legend_unreachable_cell": Word("ruutu ilman tieyhteyttä", "cell with no road connection"),
    "legend_off_road_point": Word("liian kaukana tiestä, ei käytössä", "too far from a road, not used"),
    "north": Word("P", "N"),
    "cells_note": Word(
        "Alle {n} asukkaan ruutuja ei näytetä", "Cells with fewer than {n} residents are not shown"
    ),
    "created": Word("Laadittu {date}", "Created {date}"),
    "layer_cells": Word("{label}", "{label}"),
    "borders_layer": Word("Kuntarajat", "Municipal borders"),
    "osm_layer": Word(
        "OpenStreetMap-taustakartta (vaatii verkkoyhteyden)",
        "OpenStreetMap background (needs a network connection)",
    ),
    "layers": Word("Karttatasot", "Layers"),
    "legend": Word("Selite", "Legend"),
    "layer_gaps": Word("Palveluaukot", "Coverage gaps"),
    "layer_places": Word("Paikannimet", "Place names"),
    "layer_municipality_names": Word("Kuntien nimet", "Municipality names"),
    "layer_context": Word("Naapurikunnat", "Neighbouring municipalities"),
    "proposal_site": Word("ehdotettu sopimus (kohde)", "proposed agreement (site)"),
    "proposal_route": Word("ehdotettu reitti", "proposed route"),
    "municipality_name": Word("kunnan nimi", "municipality name"),
    "place_name": Word("paikannimi", "place name"),
    "actors": Word("Toimijat", "Actors"),
    "name": Word("Nimi", "Name"),
    "services": Word("Palvelut", "Services"),
    "operator": Word("Toimija", "Operator"),
    "sector": Word("Sektori", "Sector"),
    "mode": Word("Toimintamuoto", "Mode"),
    "days": Word("Päiviä viikossa", "Days per week"),
    "population": Word("Asukkaita", "Population"),
    "uncovered": Word("Palvelun ulkopuolella", "Not covered"),
    "age65": Word("Yli 65-vuotiaita", "Aged 65+"),
    "distance": Word("Etäisyys lähimpään (km)", "Distance to nearest (km)"),
    "place": Word("Alue", "Area"),
    "service": Word("Palvelu", "Service"),
    "rationale": Word("Perustelu", "Rationale"),
    "actor": Word("Toimija", "Actor"),
    "cell_distance": Word("Etäisyys", "Distance"),
    "interactive_title": Word("{name}: palveluverkko", "{name}: service network"),
    "hint": Word(
        "Valitse palvelu oikean yläkulman valikosta.", "Pick a service in the menu at the top right."
    ),
    "km": Word("km", "km"),
    "all_services": Word("kaikki palvelut", "all services"),
    "title_all": Word("Arjen palveluverkko: kaikki kunnat", "Everyday service network: all municipalities"),
    "title_muni": Word("Arjen palveluverkko: {name} ({code})", "Everyday service network: {name} ({code})"),
    "contents": Word("Sisältö", "Contents"),
    "overall": Word("Yhteenveto (kaikki kunnat)", "Overview (all municipalities)"),
    "key": Word("Tunnusluvut", "Key figures"),
    "services_section": Word("Palvelukohtaiset tunnusluvut", "Indicators per service"),
    "municipalities": Word("Kunnat", "Municipalities"),
    "gaps": Word("Suurimmat palveluaukot", "Largest coverage gaps"),
    "proposals": Word("Kumppanuusehdotukset", "Partnership proposals"),
    "maps": Word("Kartat", "Maps"),
    "settings": Word("Asetukset", "Settings"),
    "sources": Word("Aineistot ja lähteet", "Data and sources"),
    "run_date": Word("Analyysi ajettu {date}", "Analysis run {date}"),
    "report_date": Word("Raportti laadittu {date}", "Report created {date}"),
    "k_population": Word("Asukkaita", "Population"),
    "k_covered": Word("Kysynnästä palvelujen piirissä (keskiarvo)", "Demand covered (mean over services)"),
    "k_services_gaps": Word("Palveluja, joissa aukkoja", "Services with gaps"),
    "k_lacking": Word("Asukkaita, joilta puuttuu jokin palvelu", "Residents lacking at least one service"),
    "k_points": Word("Palvelupisteitä", "Service points"),
    "k_gap_areas": Word("Palveluaukkoalueita", "Gap areas"),
    "municipality": Word("Kunta", "Municipality"),
    "covered_share": Word("Piirissä (kysynnästä)", "Covered (of demand)"),
    "uncovered_demand": Word("Ulkopuolella, kysyntä", "Not covered, demand"),
    "share_map": Word("Osuus kysynnästä ulkopuolella: {service}", "Uncovered share of demand: {service}"),
    "baseline": Word("nykytila", "baseline"),
    "no_data": Word("ei tietoa", "no data"),
    "demand_group": Word("Kysyntäryhmä", "Demand group"),
    "uncovered_population": Word("Ulkopuolella, kaikki asukkaat", "Not covered, all residents"),
    "uncovered_65_plus": Word("Ulkopuolella, 65+-asukkaat", "Not covered, residents 65+"),
    "uncovered_sparse": Word("Ulkopuolella, harvaan asuttu", "Not covered, sparse areas"),
    "unreachable_population": Word("Ei tieyhteyttä", "No road access"),
    "mean_distance_km": Word("Etäisyys ka. (km)", "Mean distance (km)"),
    "median_distance_km": Word("Mediaani (km)", "Median (km)"),
    "p90_distance_km": Word("90 % (km)", "90th pct (km)"),
    "mean_time_min": Word("Aika ka. (min)", "Mean time (min)"),
    "services_with_gaps": Word("Palveluja, joissa aukkoja", "Services with gaps"),
    "population_lacking_any_service": Word(
        "Asukkaita, joilta puuttuu palvelu", "Residents lacking a service"
    ),
    "cells": Word("Ruutuja", "Cells"),
    "age_65_plus": Word("65+", "65+"),
    "site_distance_km": Word("Etäisyys lähimpään (km)", "Distance to nearest (km)"),
    "no_gaps": Word("Ei palveluaukkoja.", "No coverage gaps."),
    "no_proposals": Word(
        "Ehdotuksia ei ole vielä laadittu (aja `arjenturva propose`).",
        "No proposals yet (run `arjenturva propose`).",
    ),
    "no_maps": Word(
        "Karttoja ei ole vielä piirretty (aja `arjenturva map`).", "No maps drawn yet (run `arjenturva map`)."
    ),
    "days_per_week": Word("Päiviä/vko", "Days/week"),
    "covered": Word("Kattaa asukkaita", "Residents covered"),
    "covered_65": Word("Kattaa 65+", "65+ covered"),
    "demand_covered": Word("Kattaa kysyntää", "Demand covered"),
    "distance_km": Word("Etäisyys (km)", "Distance (km)"),
    "gap_area": Word("Aukkoalue", "Gap area"),
    "settings_mobile": Word("Liikkuva palvelu", "Mobile service"),
    "settings_remote": Word("Etäpalvelu", "Remote service"),
    "sectors": Word("Sallitut sektorit", "Allowed sectors"),
    "mobile_rule": Word("täysi kattavuus {d} pv/vko", "full coverage at {d} days/week"),
    "remote_rule": Word("lasketaan {w}", "counts {w}"),
    "not_counted": Word("ei lasketa", "not counted"),
    "general": Word("Yleiset asetukset", "General settings"),
    "suppress": Word(
        "Alle {n} asukkaan ruutuja ei näytetä yksittäin; ne sisältyvät kaikkiin summiin.",
        "Cells with fewer than {n} residents are not shown individually; they count in every total.",
    ),
    "cost": Word("Lähimmän palvelun mittari: {cost}", "Nearest service by: {cost}"),
    "cost_distance": Word("tieetäisyys", "road distance"),
    "cost_time": Word("matka-aika", "travel time"),
    "area_classes": Word("Aluetyypit: {source}", "Area classes: {source}"),
    "config_hash": Word("Asetusten tunniste (config hash): {h}", "Settings fingerprint (config hash): {h}"),
    "inputs": Word("Lähtöaineistot", "Input data"),
    "file": Word("Tiedosto", "File"),
    "checksum": Word("Tarkiste (SHA-256, 16 merkkiä)", "Checksum (SHA-256, 16 characters)"),
    "attribution": Word("Tekijänoikeudet ja lisenssit", "Copyright and licences"),
    "overview_caption": Word(
        "{name}: kuinka monta palvelua jää kynnysetäisyyden ulkopuolelle",
        "{name}: how many services are beyond their threshold distance",
    ),
    "service_caption": Word(
        "{label}: tieetäisyys lähimpään palvelupisteeseen",
        "{label}: road distance to the nearest service point",
    ),
    "all_link": Word("Kaikki kunnat", "All municipalities"),
    "print": Word("Tulosta", "Print"),
    "top_n": Word(
        "{n} suurinta aukkoaluetta palvelun ulkopuolelle jäävän kysynnän mukaan (kaikki: gap_areas.csv).",
        "The {n} largest gap areas by demand not covered (all of them: gap_areas.csv).",
    ),
    "shares_note": Word(
        "Kysyntä, Piirissä ja Ulkopuolella, kysyntä lasketaan palvelun kysyntäryhmästä (esim. "
        "0–14-vuotiaat); Ulkopuolella, kaikki asukkaat laskee kaikki asukkaat, joille palvelu jää "
        "kynnysetäisyyden ulkopuolelle. Etäisyydet ovat väestöllä painotettuja tieetäisyyksiä "
        "lähimpään palvelupisteeseen.",
        "Demand, Covered and Not covered, demand count the service's demand group (e.g. children "
        "aged 0–14); Not covered, all residents counts every resident beyond the service's "
        "threshold. Distances are population-weighted road distances to the nearest service point.",
    ),
    "agreement": Word("Sopimus", "Agreement"),
    "site": Word("Paikka", "Site"),
    "distance_from_base_km": Word("Etäisyys tukikohdasta (km)", "Distance from base (km)"),
    "muni_service_caption": Word(
        "{name}: {label}, tieetäisyys lähimpään palvelupisteeseen",
        "{name}: {label}, road distance to the nearest service point",
    ),
    "solver_line": Word(
        "Ehdotukset laski {solver}: tila {status}, MIP-aukko {gap}; {limit}.",
        "Proposals solved by {solver}: status {status}, MIP gap {gap}; {limit}.",
    ),
    "time_limit_hit": Word(
        "aikaraja täyttyi, joten ratkaisu ei välttämättä ole paras mahdollinen",
        "the time limit was hit, so the solution may not be the best possible",
    ),
    "time_limit_not_hit": Word("aikaraja ei täyttynyt", "the time limit was not hit"),
    "not_known": Word("ei tiedossa", "not known"),
    "licence_note": Word(
        "Raportin luvut ja kartat perustuvat alla lueteltuihin aineistoihin. Mainitse lähteet ja "
        "niiden lisenssit, kun jaat raporttia tai sen karttoja.",
        "The figures and maps of this report are based on the data listed below. Credit the "
        "sources and their licences when you share this report or its maps.",
    ),
    "brief_title": Word("Kuntatiivistelmä: {name} ({code})", "Municipality brief: {name} ({code})"),
    "brief_link": Word("Tiivistelmä", "Brief"),
    "full_report": Word("Koko raportti: {file}", "Full report: {file}"),
    "services_brief": Word("Palvelut nyt ja ehdotuksin", "Services now and with the proposals"),
    "covered_now": Word("Piirissä nyt", "Covered now"),
    "covered_after": Word("Piirissä ehdotuksin", "Covered with proposals"),
    "covered_routes": Word("Piirissä reittien jälkeen", "Covered with the routes"),
    "uncovered_demand_routes": Word(
        "Ulkopuolella, kysyntä, reittien jälkeen", "Not covered, demand, with the routes"
    ),
    "uncovered_now": Word("Ulkopuolella, kaikki asukkaat, nyt", "Not covered, all residents, now"),
    "uncovered_after": Word(
        "Ulkopuolella, kaikki asukkaat, ehdotuksin", "Not covered, all residents, with proposals"
    ),
    "uncovered_demand_now": Word("Ulkopuolella, kysyntä, nyt", "Not covered, demand, now"),
    "uncovered_demand_after": Word(
        "Ulkopuolella, kysyntä, ehdotuksin", "Not covered, demand, with proposals"
    ),
    "agreements": Word("Sopimuksia", "Agreements"),
    "k_agreements": Word("Kumppanuusehdotuksia", "Partnership proposals"),
    "worst_gaps": Word("Suurimmat palveluaukot", "Largest coverage gaps"),
    "worst_gaps_note": Word(
        "{n} aukkoaluetta, joilla eniten kysyntää palvelun ulkopuolella (kaikki: gap_areas.csv).",
        "The {n} gap areas with the most demand not covered (all of them: gap_areas.csv).",
    ),
    "agreements_cut": Word(
        "Tiivistelmässä {n} sopimusta {total}:stä; kaikki: {file}.",
        "This brief lists {n} of {total} agreements; all of them: {file}.",
    ),
    "before_after": Word("Piirissä nyt → ehdotuksin", "Covered now → with proposals"),
    "map": Word("Kartta", "Map"),
    "legend_route": Word("liikkuvan palvelun reitti", "mobile route"),
    "legend_route_stop": Word("reitin pysäkki", "route stop"),
    "weekly_timetable": Word("Viikkoaikataulu", "Weekly timetable"),
    "weekly_timetable_note": Word(
        "Liikkuvien palvelujen reitit, jotka pysähtyvät alueella: ajoneuvo ja viikonpäivä, "
        "saapumisajat ja pysäkit (kaikki: routes.csv).",
        "The mobile routes stopping in the area, per vehicle and weekday: arrival times and stops "
        "(all of them: routes.csv).",
    ),
    "vehicle": Word("Ajoneuvo", "Vehicle"),
    "weekday": Word("Viikonpäivä", "Weekday"),
    "route_days": Word("Pysähtyy", "Stops on"),
    "routes_layer": Word("Liikkuvien palvelujen reitit", "Mobile routes"),
}
