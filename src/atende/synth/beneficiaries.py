"""Synthetic beneficiaries, the same for the same seed: the demo's registry and the files the
benchmarks import. Names are drawn from common Brazilian first names and surnames, so a
search by a full name finds a handful of people and a search by one first name many."""

import random
from collections.abc import Iterator
from datetime import date, timedelta

# First names by the sex the file gives the person, so that a "Patrícia" is not recorded
# as male, and a mother's name is a woman's.
_FEMALE = (
    "Ana Maria Adriana Juliana Márcia Fernanda Patrícia Aline Sandra Camila Amanda Bruna "
    "Jéssica Letícia Júlia Luciana Vanessa Mariana Gabriela Vera Vitória Larissa Cláudia "
    "Beatriz Luana Rita Sônia Renata Eliane Josefa Simone Natália Cristiane Carla Débora "
    "Rosângela Jaqueline Rosa Daniela Aparecida Marlene Terezinha Raimunda Andréia Fabiana "
    "Lúcia Raquel Ângela Rafaela Joana Luzia Elaine Daiane Conceição Heloísa Valentina Cecília "
    "Isadora Lívia Helena Lorena Manuela Sophia Alice Laura"
)
_MALE = (
    "João José Antônio Francisco Carlos Paulo Pedro Lucas Luiz Marcos Luís Gabriel Rafael "
    "Daniel Marcelo Bruno Eduardo Felipe Raimundo Rodrigo Manoel Mateus André Fernando Fábio "
    "Leonardo Gustavo Guilherme Leandro Tiago Anderson Ricardo Márcio Jorge Sebastião Alexandre "
    "Roberto Sérgio Vitor Diego Júlio Cícero Enzo Heitor Davi Arthur Bernardo Théo Samuel "
    "Benício Joaquim Otávio Caio Henrique Murilo Lorenzo Emanuel"
)
_LAST = (
    "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro "
    "Martins Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento "
    "Andrade Moreira Nunes Marques Machado Mendes Freitas Cardoso Ramos Gonçalves Santana "
    "Teixeira Araújo Pinto Correia Cavalcanti Monteiro Moura Campos Batista Barros Azevedo "
    "Farias Borges Brito Castro Pires Sales Macedo Coelho Miranda Bezerra Cunha Medeiros "
    "Guimarães Tavares Aragão Figueiredo Xavier Siqueira Fonseca Peixoto Queiroz Brandão "
    "Magalhães Sampaio Leite Matos Assunção Falcão Paiva Lacerda Bastos Rezende Prado Nogueira"
)
FIRST_NAMES = {"F": _FEMALE.split(), "M": _MALE.split()}
LAST = _LAST.split()
PRODUCTS = [
    ("BRONZE", "Plano Bronze Ambulatorial", "471234561", "ambulatorial"),
    ("PRATA", "Plano Prata Hospitalar", "471234562", "hospitalar"),
    ("OURO", "Plano Ouro com Obstetrícia", "471234563", "hospitalar_obstetricia"),
    ("SORRISO", "Plano Sorriso Odontológico", "471234564", "odontologico"),
]
COMPANIES = ["Metalúrgica Paulista Ltda", "Comércio Boa Vista S.A.", "Escola Horizonte"]
CITIES = [("São Paulo", "SP"), ("Campinas", "SP"), ("Santos", "SP"), ("Rio de Janeiro", "RJ")]
STREETS = ["Rua das Flores", "Av. Brasil", "Rua XV de Novembro", "Rua Sete de Setembro"]


def cpf_of(number: int) -> str:
    """The valid CPF whose first nine digits are ``number`` (below 10⁹)."""
    digits = [int(d) for d in f"{number:09d}"]
    for _ in range(2):
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def card_of(number: int) -> str:
    return f"{number:010d}"


def rows(count: int, *, seed: int = 1, first: int = 1, today: date | None = None) -> Iterator[dict]:
    """``count`` file rows (the import's columns), cards ``first`` … ``first + count - 1``:
    a holder every few cards with its dependents after it, in several products."""
    rng = random.Random(seed * 1_000_003 + first)
    today = today or date.today()
    holder = None
    for number in range(first, first + count):
        is_dependent = holder is not None and rng.random() < 0.35
        if not is_dependent:
            holder = {
                "card": card_of(number),
                "last": f"{rng.choice(LAST)} {rng.choice(LAST)}",
                "product": rng.choice(PRODUCTS),
                "contract": f"C{number:08d}",
                "kind": rng.choice(["individual", "individual", "empresarial", "adesao"]),
                "start": today - timedelta(days=rng.randint(10, 3650)),
                "city": rng.choice(CITIES),
            }
        sex = rng.choice("FM")
        name = f"{rng.choice(FIRST_NAMES[sex])} {holder['last']}"
        if rng.random() < 0.3:
            name = f"{rng.choice(FIRST_NAMES[sex])} {name}"
        code, product_name, registration, segmentation = holder["product"]
        city, state = holder["city"]
        born = today - timedelta(days=rng.randint(0 if is_dependent else 18 * 365, 85 * 365))
        yield {
            "carteirinha": card_of(number),
            "cpf": cpf_of(100_000_000 + number * 7 % 899_999_999),
            "nome": name,
            "nascimento": born.strftime("%d/%m/%Y"),
            "sexo": sex,
            "nome_mae": f"{rng.choice(FIRST_NAMES['F'])} {rng.choice(LAST)}",
            "titular": holder["card"] if is_dependent else "",
            "produto": code,
            "produto_nome": product_name,
            "produto_registro_ans": registration,
            "segmentacao": segmentation,
            "contrato": holder["contract"],
            "tipo_contrato": holder["kind"],
            "empresa": rng.choice(COMPANIES) if holder["kind"] != "individual" else "",
            "inicio_contrato": holder["start"].strftime("%d/%m/%Y"),
            "validade_carteirinha": (today + timedelta(days=rng.randint(30, 900))).strftime(
                "%d/%m/%Y"
            ),
            "situacao": "",
            "data_situacao": "",
            "telefones": f"(11) 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
            "emails": f"{card_of(number)}@exemplo.com.br",
            "cep": f"{rng.randint(1000000, 99999999):08d}",
            "logradouro": rng.choice(STREETS),
            "numero": str(rng.randint(1, 3000)),
            "municipio": city,
            "uf": state,
        }
