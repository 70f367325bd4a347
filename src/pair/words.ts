// The pairing word lists, written for this project. Two lists of 256 words: a code's words alternate
// between them (a quality at odd positions, a thing at even ones, so a code reads "brave otter lucky"),
// and that alternation, with an odd number of words (3, 5 or 7: a code starts and ends with a
// quality), is the code's parity: a dropped or doubled word makes the count even, a swapped one puts
// a word where its list does not belong, and either is caught before the one online attempt is
// spent (the PGP word list's even/odd lists work alike).
//
// Why 256 a list: one word is one byte of secret, 8 bits, so the default three words are 24 bits,
// a 1 in 16,777,216 chance for the one guess an attacker gets per offer, and each two words more
// (--code-length 5 or 7) divide that by 65,536. A longer list would give more bits a word but harder
// words; 256 short, common English words (3 to 8 letters) stay easy to say and to spell.
//
// Rules the lists keep (test/unit/pair/code.test.ts checks them): lower-case a-z only, 512 distinct
// words, and no two words (of either list) within one edit (a letter changed, added, dropped, or two
// neighbours swapped) of each other, so a single typo never turns one word into another: it gives an
// unknown word, and the error suggests the word meant.

/** The words of a list written as one string, split on white space. */
function list(text: string): readonly string[] {
  return Object.freeze(text.trim().split(/\s+/));
}

/** Words at odd positions (1st, 3rd, ...): qualities. Index = the byte the word carries. */
export const ODD_WORDS = list(`
  able absent absurd active agile airy alert alpine amused ancient antique aqua arctic artful
  atomic autumn awake azure balmy bashful basic beige blazing blissful blunt bold bouncy brainy
  brave bright brisk bubbly bumpy buoyant burly busy calm candid carefree careful caring casual
  chatty cheeky cheerful chilly chubby civic classic cloudy clumsy coastal cobalt comfy cool coral
  cosmic cozy crafty creamy crimson crisp crunchy cuddly cunning curious dainty dapper deep dense
  dewy dusty dutiful dynamic eager early earnest earthy eastern easy elastic electric elegant epic
  equal eternal exact exotic fabled faithful famous fancy fast fearless fertile festive fierce
  fiery final firm flashy floral fluent fluffy foggy fond formal fragrant frank fresh friendly
  frosty frozen frugal fuzzy gallant gentle giant giddy gifted glad gleaming glossy glowing golden
  graceful gracious grand grassy green groovy happy hardy hasty hazy healthy hearty heavy helpful
  heroic hidden hollow honest hopeful huge humble hushed icy ideal idle inky ivory jade jazzy
  jovial joyful juicy jumbo keen kind kindly knotty lanky large lavish leafy level limber linen
  little lively local lofty loud lucky lunar lush magic major marine mature meek mellow merry
  mighty mild minty modern modest moody nimble noble oaken orange polite proud quick rapid rare
  ready regal rich rigid ripe rosy round royal rural sandy scenic secret shiny silent silky silver
  simple sleepy slim smart smooth snowy soft solid sonic spicy sporty steady stormy sturdy super
  sweet swift tall tame tender thirsty tidy timid topaz tough tranquil tropical upbeat urban
  useful vivid warm wavy windy wise witty wooden woolly young zesty zippy
`);

/** Words at even positions (2nd, 4th, ...): things. Index = the byte the word carries. */
export const EVEN_WORDS = list(`
  acorn almond alpaca anchor apple avocado badger bagel balloon bamboo banana banjo barrel basket
  beacon beaver beetle biscuit bishop blanket blender blossom bobcat bongo bonnet bottle bracket
  bramble breeze bridge broccoli bucket buckle buffalo bunny burrito button cabbage cabin cactus
  camel candle canoe canyon caramel carpet carrot cashew castle cello chapel cheetah cherry
  chimney chipmunk cinnamon clover cobra coconut comet compass cookie copper cotton cowboy coyote
  cracker crayon cricket crystal cupboard cupcake curtain dagger daisy dingo dolphin donkey
  doughnut dragon dumpling eagle easel elbow ember emerald falafel falcon feather ferret fiddle
  flamingo flute fossil fountain garden garlic gazelle gecko ginger glacier goblet goose gopher
  granite gravy guitar hammer hamster harbor harp hazel hedgehog helmet hermit hippo honey hornet
  hotdog igloo iguana island jacket jaguar jasmine jelly jigsaw jungle kayak kettle kitten kiwi
  koala ladder lantern lasagna lemon leopard lettuce lily lizard llama lobster locket macaroni
  magnet mammoth mango maple marble meadow meerkat melon mirror mosaic muffin mushroom mustard
  napkin narwhal nectar needle nickel noodle nutmeg oasis oatmeal octopus olive omelet onion
  orchid ostrich otter oyster paddle pancake panda papaya peacock peanut pebble pelican penguin
  pepper piano pickle pigeon pillow pirate planet pony poppy potato pretzel pudding pumpkin puppet
  quail quilt rabbit raccoon radish raisin raven reindeer rhubarb ribbon robin salami salmon
  sandal sardine satchel sausage scarf seahorse sherbet shrimp skunk sloth sparrow spider spinach
  spoon squid squirrel statue sugar sunset swan tablet teapot tiger tomato tractor trumpet tulip
  turkey turnip turtle tuxedo umbrella unicorn valley velvet violin volcano waffle walnut walrus
  whistle window yogurt zebra zipper
`);
