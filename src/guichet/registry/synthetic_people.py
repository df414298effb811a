"""Names, places and the well-known demo members used by registry.synthetic. All invented."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Accents, hyphens and apostrophes on purpose: matching must cope with them.
FIRST_NAMES = [
    "Marie", "Jean", "Pierre", "Michel", "Françoise", "Monique", "Philippe", "Nathalie", "Isabelle", "Alain",
    "Sylvie", "Catherine", "Hélène", "Jean-Pierre", "Marie-Hélène", "Jean-François", "Anne-Sophie", "Benoît",
    "Chloé", "Céline", "Gérard", "Josiane", "Léa", "Noël", "Zoé", "Éric", "Élodie", "Jérôme", "Stéphane",
    "Thérèse", "François", "Anaïs", "Maëlle", "Loïc", "Joël", "Agnès", "Cécile", "Frédéric", "Hervé", "Inès",
    "Rémi", "Véronique", "Yannick", "Mathis", "Camille", "Lucas", "Emma", "Hugo", "Louise", "Nicolas",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
    "D'Arcy", "De La Fontaine", "Le Goff", "N'Diaye", "Saint-Just", "L'Hermite", "Lévêque", "Béranger",
    "Château", "Môquet", "Brûlé", "Nguyen", "Da Silva", "Perrin-Morel", "Guérin", "Boyer", "Gauthier",
    "Rousseau", "Müller", "Ollivier",
]
STREETS = [
    "rue des Lilas", "avenue de la République", "place de l'Église", "chemin des Vignes", "rue Victor-Hugo",
    "boulevard Gambetta", "impasse du Moulin", "rue de la Paix", "allée des Châtaigniers", "route de Lyon",
    "rue Jean-Jaurès", "quai des Bateliers", "lieu-dit Les Granges", "rue du Général-de-Gaulle",
]
CITIES = [
    "75011 Paris", "69003 Lyon", "13005 Marseille", "31000 Toulouse", "33000 Bordeaux", "59000 Lille",
    "44000 Nantes", "67000 Strasbourg", "35000 Rennes", "20000 Ajaccio", "97400 Saint-Denis", "21000 Dijon",
    "63000 Clermont-Ferrand", "87000 Limoges", "29200 Brest", "24000 Périgueux", "12000 Rodez",
]
EMPLOYERS = [
    "Mairie de Lyon", "Centre hospitalier de Rodez", "Conseil départemental de la Gironde",
    "Communauté d'agglomération du Grand Dijon", "Hôpital Saint-Louis", "Région Bretagne",
    "Commune de Périgueux", "Syndicat des eaux du Limousin", "Centre de gestion du Nord",
    "Office public de l'habitat de Nantes",
]


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    birth_date: date
    email: str
    mobile: str
    landline: str
    address: str
    category: str
    iban: str
    # Answers to the policy's security questions, by fact name; facts not listed are generated.
    facts: dict[str, str] = field(default_factory=dict)


DEMO_PEOPLE = [
    DemoPerson(
        "Marie-Hélène", "D'Arcy", date(1958, 3, 14), "marie-helene.darcy@example.org", "+33612345678",
        "+33145678912", "12 rue des Lilas\n75011 Paris", "individual", "FR76 3000 6000 0112 3456 7890 189",
        {"employer": "Mairie de Lyon", "affiliation_year": "1984", "health_card_serial": "1234567890",
         "recent_benefit_amount": "1234.56"},
    ),
    DemoPerson(
        "Jean-Pierre", "Lefèvre", date(1949, 11, 2), "jean-pierre.lefevre@example.org", "+33623456789", "",
        "Lieu-dit Les Granges\n12000 Rodez", "farmer", "FR14 2004 1010 0505 0001 3M02 606",
        {"employer": "Centre hospitalier de Rodez", "affiliation_year": "1970",
         "contribution_invoice_amount": "845.20"},
    ),
    DemoPerson(
        "Anaïs", "Nguyen", date(1975, 6, 30), "anais.nguyen@example.org", "+33734567890", "",
        "8 quai des Bateliers\n67000 Strasbourg", "employer", "FR76 1027 8060 6100 0102 0480 197",
        {"employer": "Région Bretagne", "affiliation_year": "1999", "salary_contributions_amount": "3210.00"},
    ),
]
