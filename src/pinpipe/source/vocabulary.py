"""Hand-written vocabulary of the synthetic source data (no text is copied from the course data).

The lists live in one text block: ``@key`` starts a list, items are separated by ``|`` or line
breaks. ``synthetic`` relies on a few properties for the uniqueness of poster names (checked by
the tests): names, brand adjectives, nouns and suffixes are single capitalised words of letters
only, and brand adjectives are not first names.
"""

from __future__ import annotations

#: First index of each category block at the course's 11,154 rows (SPEC §1.2 id ranges; each
#: boundary is the midpoint of the gap seen between two blocks).
REAL_BLOCK_STARTS = (0, 894, 1638, 2635, 3467, 4330, 5078, 5858, 6729, 7576, 8483, 9461, 10308)
REAL_ROWS = 11_154

# countries: Faker's en_US list (public, 243 names). Categories: title topics, two disjoint tag
# pools and description sentences ({t} is a topic).
_DATA = """
@countries Afghanistan|Albania|Algeria|American Samoa|Andorra|Angola|Anguilla
Antarctica (the territory South of 60 deg S)|Antigua and Barbuda|Argentina|Armenia|Aruba|Australia
Austria|Azerbaijan|Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bermuda|Bhutan
Bolivia|Bosnia and Herzegovina|Botswana|Bouvet Island (Bouvetoya)|Brazil
British Indian Ocean Territory (Chagos Archipelago)|British Virgin Islands|Brunei Darussalam
Bulgaria|Burkina Faso|Burundi|Cambodia|Cameroon|Canada|Cape Verde|Cayman Islands
Central African Republic|Chad|Chile|China|Christmas Island|Cocos (Keeling) Islands|Colombia|Comoros
Congo|Cook Islands|Costa Rica|Cote d'Ivoire|Croatia|Cuba|Cyprus|Czech Republic|Denmark|Djibouti
Dominica|Dominican Republic|Ecuador|Egypt|El Salvador|Equatorial Guinea|Eritrea|Estonia|Ethiopia
Falkland Islands (Malvinas)|Faroe Islands|Fiji|Finland|France|French Guiana|French Polynesia
French Southern Territories|Gabon|Gambia|Georgia|Germany|Ghana|Gibraltar|Greece|Greenland|Grenada
Guadeloupe|Guam|Guatemala|Guernsey|Guinea|Guinea-Bissau|Guyana|Haiti
Heard Island and McDonald Islands|Holy See (Vatican City State)|Honduras|Hong Kong|Hungary|Iceland
India|Indonesia|Iran|Iraq|Ireland|Isle of Man|Israel|Italy|Jamaica|Japan|Jersey|Jordan|Kazakhstan
Kenya|Kiribati|Korea|Kuwait|Kyrgyz Republic|Lao People's Democratic Republic|Latvia|Lebanon|Lesotho
Liberia|Libyan Arab Jamahiriya|Liechtenstein|Lithuania|Luxembourg|Macao|Macedonia|Madagascar|Malawi
Malaysia|Maldives|Mali|Malta|Marshall Islands|Martinique|Mauritania|Mauritius|Mayotte|Mexico
Micronesia|Moldova|Monaco|Mongolia|Montenegro|Montserrat|Morocco|Mozambique|Myanmar|Namibia|Nauru
Nepal|Netherlands|Netherlands Antilles|New Caledonia|New Zealand|Nicaragua|Niger|Nigeria|Niue
Norfolk Island|Northern Mariana Islands|Norway|Oman|Pakistan|Palau|Palestinian Territory|Panama
Papua New Guinea|Paraguay|Peru|Philippines|Pitcairn Islands|Poland|Portugal|Puerto Rico|Qatar
Reunion|Romania|Russian Federation|Rwanda|Saint Barthelemy|Saint Helena|Saint Kitts and Nevis
Saint Lucia|Saint Martin|Saint Pierre and Miquelon|Saint Vincent and the Grenadines|Samoa
San Marino|Sao Tome and Principe|Saudi Arabia|Senegal|Serbia|Seychelles|Sierra Leone|Singapore
Slovakia (Slovak Republic)|Slovenia|Solomon Islands|Somalia|South Africa
South Georgia and the South Sandwich Islands|Spain|Sri Lanka|Sudan|Suriname
Svalbard & Jan Mayen Islands|Swaziland|Sweden|Switzerland|Syrian Arab Republic|Taiwan|Tajikistan
Tanzania|Thailand|Timor-Leste|Togo|Tokelau|Tonga|Trinidad and Tobago|Tunisia|Turkey|Turkmenistan
Turks and Caicos Islands|Tuvalu|Uganda|Ukraine|United Arab Emirates|United Kingdom
United States Minor Outlying Islands|United States Virgin Islands|United States of America|Uruguay
Uzbekistan|Vanuatu|Venezuela|Vietnam|Wallis and Futuna|Western Sahara|Yemen|Zambia|Zimbabwe
@first_names Aaron|Abby|Adam|Aidan|Alan|Albert|Alexis|Alice|Alicia|Amanda|Amber|Amy|Andrea|Andrew
Angela|Anthony|April|Ashley|Bailey|Barbara|Benjamin|Bethany|Bill|Blake|Bonnie|Brad|Bradley|Brenda
Brian|Brittany|Bruce|Bryan|Caitlin|Cameron|Carl|Carla|Carmen|Carol|Caroline|Catherine|Chad|Charles
Chelsea|Chloe|Chris|Christina|Christine|Christopher|Claire|Colin|Connor|Courtney|Craig|Crystal|Dale
Dan|Dana|Danielle|Darren|David|Dean|Deborah|Denise|Derek|Diana|Diane|Donald|Donna|Douglas|Edward
Elaine|Elijah|Ellen|Emily|Emma|Erica|Erin|Ethan|Faith|Felicia|Frank|Gary|Gavin|George|Gloria|Gordon
Grant|Gregory|Hailey|Hannah|Heather|Helen|Henry|Ian|Isaac|Isabel|Jacob|Jacqueline|Jake|Jamie|Jane
Janet|Jason|Jeffrey|Jenna|Jeremy|Jesse|Jessica|Joan|Joel|John|Jordan|Joseph|Joshua|Julia|Julie
Justin|Katherine|Kathleen|Katie|Kelly|Kenneth|Kevin|Kristen|Kyle|Laura|Leah|Leonard|Leslie|Lisa
Logan|Lori|Lucas|Luke|Madison|Margaret|Maria|Marie|Martin|Mary|Matthew|Melanie|Melissa|Michael
Miguel|Molly|Monica|Nancy|Natalie|Nathan|Nicholas|Nicole|Noah|Olivia|Oscar|Owen|Patricia|Patrick
Paul|Peter|Philip|Rachel|Randy|Rebecca|Regina|Richard|Robert|Robin|Ronald|Ruth|Ryan|Samuel|Sandra
Sara|Scott|Sean|Shannon|Shawn|Sheila|Sophia|Stacy|Stephanie|Stephen|Susan|Tammy|Tanya|Teresa|Terry
Thomas|Timothy|Tina|Todd|Tony|Tracy|Travis|Tyler|Valerie|Vanessa|Victoria|Vincent|Walter|Wendy
Whitney|William|Zachary|Zoe
@last_names Abbott|Acosta|Adams|Allen|Alvarez|Anderson|Armstrong|Arnold|Atkins|Bailey|Baker|Baldwin
Barber|Barker|Barnes|Barton|Bates|Beck|Bennett|Berry|Bishop|Blair|Boyd|Bradley|Brennan|Brooks|Brown
Buchanan|Burke|Burns|Butler|Byrd|Caldwell|Carlson|Carpenter|Carr|Carter|Castillo|Chambers|Chavez
Clark|Clarke|Coleman|Collins|Conner|Cooper|Cortez|Cox|Crawford|Cross|Cruz|Curtis|Daniels|Davidson
Dawson|Day|Dean|Diaz|Dixon|Douglas|Duncan|Dunn|Edwards|Ellis|Emerson|Erickson|Farmer|Ferguson
Fernandez|Fisher|Fitzgerald|Fleming|Flores|Ford|Foster|Fox|Francis|Franklin|French|Fuller|Garcia
Garrett|Gibson|Gilbert|Gonzalez|Goodwin|Gordon|Grant|Graves|Gray|Gregory|Griffin|Gross|Hale|Hall
Hamilton|Hanson|Hardy|Harper|Harrison|Hart|Harvey|Hayes|Henderson|Henry|Hicks|Hill|Hines|Hoffman
Holland|Holmes|Hopkins|Horton|Howard|Hudson|Hughes|Hunt|Jackson|Jacobs|James|Jennings|Jensen
Johnson|Jones|Jordan|Keller|Kelly|Kennedy|Kim|Knight|Lamb|Lane|Lawrence|Lawson|Lee|Lindsey|Little
Logan|Lopez|Lowe|Lucas|Lyons|Mack|Maldonado|Marsh|Marshall|Martin|Mason|Matthews|Maxwell|Medina
Mendoza|Meyer|Miller|Mills|Mitchell|Moore|Morales|Moreno|Morris|Morrison|Moss|Murray|Myers|Nash
Newman|Newton|Nguyen|Norman|Norris|Olson|Owen|Owens|Padilla|Park|Parker|Patel|Payne|Pearson|Perez
Perry|Peters|Peterson|Pierce|Porter|Powell|Quinn|Ramirez|Ramos|Reed|Reid|Reyes|Rhodes|Rice|Richards
Riley|Rivera|Roberts|Robinson|Rodriguez|Rogers|Ross|Rowe|Russell|Sanchez|Sanders|Santos|Schmidt
Schneider|Scott|Shelton|Simmons|Simpson|Singh|Smith|Snyder|Stanley|Steele|Stephens|Stewart|Stone
Sullivan|Sutton|Swanson|Taylor|Thompson|Todd|Torres|Turner|Tyler|Underwood|Vaughn|Wagner|Walker
Walsh|Walters|Ward|Warren|Washington|Watkins|Weaver|Webb|Welch|West|Wheeler|White|Willis|Wilson
Wolfe|Woods|Wright|Young
@brand_adjectives Bold|Bright|Brilliant|Busy|Clever|Cosy|Cozy|Crafty|Creative|Curious|Dapper|Dreamy
Easy|Epic|Everyday|Fearless|Fresh|Frugal|Fun|Gentle|Glam|Global|Golden|Gothic|Happy|Handmade|Honest
Humble|Inked|Inspired|Kind|Lazy|Little|Lively|Lovely|Lucky|Lush|Magic|Mindful|Modern|Native|Noble
Open|Polished|Pretty|Proper|Pure|Quiet|Rebel|Restless|Retro|Royal|Rustic|Savvy|Shiny|Simple|Smart
Sparkly|Spiced|Steady|Sunlit|Sweet|Thrifty|Tiny|True|Urban|Velvet|Vintage|Vivid|Wandering|Warm
Whimsical|Wild|Wise|Witty|Wonder|Zesty
@brand_nouns Anchor|Atelier|Avenue|Bee|Blossom|Board|Boutique|Budget|Cabin|Canvas|Chalk|Compass
Corner|Cottage|Crafts|Creek|Crown|Desk|Diary|Dollar|Easel|Engine|Fern|Fox|Garage|Garden|Gear|Harbor
Haven|Hive|Home|Ink|Journal|Kitchen|Lane|Lantern|Ledger|Loft|Maker|Mantel|Map|Meadow|Mirror|Needle
Nest|Notes|Nomad|Oak|Orbit|Owl|Palette|Panda|Paper|Parlor|Passport|Penny|Pine|Planner|Porch|Quill
Quote|Road|Robin|Roots|Sage|Scissors|Shed|Skyline|Spark|Sparrow|Spoke|Stitch|Studio|Suitcase|Summit
Table|Thread|Tide|Trail|Tribe|Wagon|Wallet|Wheel|Willow|Window|Wren
@person_suffixes Art|Artworks|Beauty|Creates|Decor|Designs|Illustration|Interiors|Makes|Photography
Styling|Tattoo|Teaches|Travels|Writes|Events
@brand_suffixes Blog|Club|Collective|Company|Daily|Hub|Lab|Magazine|Network|Project|Shop
@taglines Home Decor & DIY Ideas|Easy Crafts, Printables & Kids Activities|Budget Travel Tips
Save Money, Pay Off Debt & Budget|Lifestyle, Mom Tips & Teacher Resources
Art Tutorials for Beginners|Skincare, Makeup & Self Care|Holiday Decor & Entertaining
Classroom Ideas & Printables|Wedding & Party Planning|Frugal Living & Side Hustles
Farmhouse Style on a Budget|Men's Style Tips|Quotes & Inspiration|Tattoo Ideas & Designs
Road Trips & Family Travel|Car Reviews & Restoration|Watercolor & Lettering
Organizing, Cleaning & Decor|Natural Beauty & Wellness|Christmas Crafts & Recipes
Homeschool Resources|Personal Finance for Women|Cozy Home Inspiration|Travel Guides & Itineraries
Outfit Ideas for Guys
@title_templates {a}{t}|{a}{t}|{a}{t}|{a}{t} Ideas|{n} {a}{t} Ideas|{n} {a}{t} Ideas You'll Love
{a}{t} for Beginners|The Best {a}{t}|{a}{t} Inspiration|{n} {a}{t} to Try This Year
Our Favorite {a}{t}|{a}{t} - Step by Step|{a}{t} on a Budget|The Ultimate Guide to {a}{t}
{a}{t}: Tips and Tricks|{n} {a}{t} You Need to See|{a}{t} That Will Inspire You|My {a}{t}
{n}+ {a}{t}|{a}{t} in {y}|Top {n} {a}{t}|{a}{t} Made Simple
Everything You Need to Know About {a}{t}|{a}{t} (Free Printable)
@title_suffixes : Easy Step by Step Guide|- Free Printable|for Your Home|You'll Want to Try
This Weekend|: Tips & Ideas|- The Complete Guide|for Every Budget|(With Pictures)
That Are Actually Easy|- Our Top Picks|for Beginners and Beyond|to Save for Later
- Before and After|I Swear By|on a Tight Budget|for Small Spaces|Everyone Is Talking About
- Updated List|and Where to Find Them|: What Nobody Tells You|That Look Expensive
- So Many Great Ideas|to Make You Smile
@title_adjectives Easy|Simple|Beautiful|Creative|Cute|Modern|Vintage|Minimalist|Stunning|Unique
Cozy|Budget-Friendly|Trendy|Classic|Fun|Aesthetic|Bold|Elegant|Quick|Amazing|Gorgeous|Colorful
Rustic|Cool|Best|Timeless|Clever|Dreamy|Affordable|Small|Little|Bright|Natural
@generic_sentences Click through for the full tutorial and more ideas.
Save this pin so you can find it later!|Find more inspiration on the blog.
You are going to love how easy this is.|Follow along for more ideas like this one.
I hope this gives you some inspiration for your next project.
Everything you need to get started is listed in the post.
It only takes a few minutes to put together.
Check out the full post for all the details and a free printable.
This is one of my favorite ideas so far.
Read on for our best tips, tricks and a few mistakes to avoid.
Perfect for beginners and experts alike.|These ideas work for any style and any budget.
Do not miss the last one, it is the best!|We tested every one of these so you do not have to.
Updated with new ideas for this season.
@tiny_descriptions Untitled|Love this|So pretty!|Yes!|Inspiration|Wow|Cute idea|Beautiful|Need this
Goals|Amazing|Perfect|Obsessed|Must try|Saved for later|Gorgeous work|Lovely|Great idea|So cool
Favorite
@emoji ✨|💫|🌸|❤️|😍|🔥|🌿|🙌|💕|🌊|☀️|⭐|👌|🎉|💯|🌟|😊|💛
@art.topics Watercolor Paintings|Acrylic Pour Art|Pencil Sketches|Abstract Canvas Art
Charcoal Portraits|Oil Painting Landscapes|Ink Drawings|Paper Collages|Art Journal Pages
Clay Sculptures|Pastel Sunsets|Line Art|Mixed Media Projects|Still Life Studies
Art Projects for Kids|Gouache Illustrations
@art.tags_a Watercolor Art|Acrylic Painting|Abstract Art|Canvas Art|Painting Inspiration|Art Inspo
Drawing Ideas|Pencil Art|Sketchbook Ideas|Art Journal|Mixed Media Art|Oil Painting|Art Painting
Easy Paintings|Painting Techniques|Fine Art|Contemporary Art|Art Lessons|Kids Art Projects
Art Prints
@art.tags_b Art Sketches|Art Drawings Simple|Realistic Drawings|Cool Drawings|Ink Illustrations
Gouache Painting|Pour Painting|Collage Art|Sculpture Art|Clay Art|Art Studio|Art Supplies
Color Palettes|Artist Inspiration|Art Education|Elementary Art|Art Techniques|Doodle Art|Street Art
Mural Art
@art.sents These {t} are easier than they look.|A step by step guide to {t} using simple supplies.
Learn how to create {t} with just a few brushes and some patience.
I spent the whole weekend working on {t} and I am so happy with the result.
This artist uses an unusual technique and the {t} are mesmerizing.
A fun and relaxing way to practice {t} at home.
Great for art class, these {t} work for every grade level.
@beauty.topics Skin Care Routines|Natural Makeup Looks|Glowing Skin Tips|Face Masks|Hair Care Tips
Nail Art Designs|Eyebrow Shaping|Lip Care|Anti Aging Tips|Curly Hair Routines|Beauty Hacks
Eyeshadow Looks|Acne Treatments|Makeup Brushes|Hair Growth Tips|Self Care Nights
@beauty.tags_a Skin Care Tips|Beauty Care|Beauty Skin|Beauty Hacks|Diy Beauty|Beauty Secrets
Face Beauty|Skin Care Routine|Glowing Skin|Natural Skin Care|Makeup Tips|Natural Makeup
Makeup Looks|Makeup Tutorial|Eye Makeup|Hair Care|Healthy Hair|Hair Growth|Nail Art|Nail Designs
@beauty.tags_b Acne Skin|Clear Skin|Anti Aging Skin Care|Face Mask|Diy Face Mask|Lip Care|Eyebrows
Curly Hair Routine|Hair Tips|Beauty Tips For Face|Self Care Routine|Skincare Products
Makeup Brushes|Contouring|Eyeshadow Looks|Beauty Essentials|Wellness|Body Care|Makeup Hacks
Beauty Blender
@beauty.sents The only {t} you need for glowing skin all year.
Dermatologists share their favorite {t} for every skin type.
Simple {t} you can do at home with ingredients from your kitchen.
I tried these {t} for a month and here is what happened.
Everything you need to know about {t}, from products to technique.
These {t} take less than ten minutes every morning.|Affordable {t} that actually work.
@christmas.topics Christmas Decorations|Christmas Tree Ideas|Holiday Wreaths
Christmas Crafts for Kids|Farmhouse Christmas Decor|Christmas Table Settings|Homemade Ornaments
Christmas Mantels|Front Porch Christmas Decor|Christmas Cookies|Gift Wrapping Ideas
Advent Calendars|Christmas Centerpieces|Elf on the Shelf Ideas|Christmas Lights|Stocking Stuffers
@christmas.tags_a Christmas Decorations|Christmas Diy|Christmas Crafts|Christmas Tree
Christmas Home|Christmas Holidays|Xmas|Holiday Decor|Farmhouse Christmas Decor|Rustic Christmas
Vintage Christmas|Christmas Ornaments|Diy Christmas Ornaments|Christmas Wreaths|Christmas Time
Holiday Crafts|Christmas Projects|Christmas Inspiration|Winter Christmas|Merry Christmas
@christmas.tags_b Christmas Gifts|Diy Gifts|Gift Wrapping|Christmas Cookies|Christmas Baking
Advent Calendar|Elf On The Shelf|Christmas Table Decorations|Christmas Centerpieces|Christmas Party
Holiday Party|Kids Christmas|Christmas Activities|Stocking Stuffers|Christmas Garland
Christmas Door|Outdoor Christmas|Christmas Kitchen|Christmas Bedroom|Christmas Living Rooms
@christmas.sents These {t} will make your home feel magical this holiday season.
Easy {t} you can make in an afternoon with the kids.
Get ready for the holidays with these beautiful {t}.
Budget friendly {t} that look like they came from a store.
My favorite {t} from this year, with a full source list.
Bring the holiday spirit into every room with {t}.
Simple {t} using things you already have at home.
@diy-and-crafts.topics Mason Jar Crafts|Paper Flowers|Resin Coasters|Macrame Wall Hangings
Upcycled Furniture|Kids Crafts|Felt Projects|Pallet Projects|Polymer Clay Earrings|Painted Rocks
Embroidery Patterns|Cricut Projects|Dollar Store Crafts|Candle Making|Scrapbook Pages
Crochet Patterns
@diy-and-crafts.tags_a Diy Crafts|Diy Crafts For Kids|Diy Crafts To Sell|Easy Crafts
Crafts For Kids|Cute Crafts|Creative Crafts|Diy Home Decor|Diy Projects|Diy Arts And Crafts
Craft Ideas|Handmade Crafts|Paper Crafts|Mason Jar Crafts|Resin Crafts|Diy Resin Art
Epoxy Resin Art|Macrame Diy|Upcycled Crafts|Recycled Crafts
@diy-and-crafts.tags_b Kids Crafts|Preschool Crafts|Toddler Crafts|Felt Crafts|Pallet Projects
Wood Crafts|Polymer Clay|Clay Crafts|Painted Rocks|Rock Painting|Embroidery|Hand Embroidery
Cricut Projects|Vinyl Projects|Candle Making|Diy Candles|Scrapbooking|Crochet|Crochet Patterns
Sewing Projects
@diy-and-crafts.sents These {t} are perfect for a rainy afternoon.
All you need for these {t} is a few supplies from the craft store.
Step by step instructions for {t} with free templates.
Turn your leftover supplies into {t} in under an hour.
Easy {t} that make great gifts for friends and family.
Kids and adults alike will love making these {t}.
I love how these {t} turned out, and they cost almost nothing.
@education.topics Anchor Charts|Classroom Organization Ideas|Math Games|Reading Activities
Homeschool Schedules|Science Experiments|Phonics Worksheets|Writing Prompts
Classroom Management Tips|Preschool Learning Activities|Study Tips|Sight Word Games
Teacher Planners|STEM Challenges|Kindergarten Centers|Spelling Activities
@education.tags_a Teaching Ideas|Classroom Ideas|Classroom Organization|Classroom Management
Teacher Hacks|Teacher Resources|Education Quotes|Elementary Education|Homeschool|Homeschooling
Homeschool Curriculum|Kids Learning|Learning Activities|Preschool Activities|Preschool Learning
Kindergarten Activities|Kindergarten Classroom|Math Activities|Math Games|Math Lessons
@education.tags_b Sight Words|Spelling Activities|Science Experiments|Science For Kids
Stem Activities|Stem Challenges|Study Tips|Study Motivation|School Hacks|Anchor Charts
Writing Prompts|Writing Workshop|Bulletin Boards|Classroom Decor|Teacher Planner|Learning Centers
History Lessons|Social Studies|Fractions|Worksheets
@education.sents Use these {t} to keep students engaged all year long.
Teachers share their favorite {t} that actually work.
Free printable {t} for your classroom or homeschool.
Help kids build confidence with these simple {t}.|These {t} save me so much time every week.
Hands-on {t} that make learning fun.|A collection of {t} for preschool through fifth grade.
@event-planning.topics Wedding Planning Checklists|Birthday Party Ideas|Baby Shower Themes
Party Decorations|Balloon Garlands|Bridal Shower Ideas|Event Planning Tips|Wedding Budgets
Dessert Tables|Graduation Party Ideas|Backyard Party Ideas|Party Favors|Wedding Centerpieces
Table Decorations|Event Timelines|Gender Reveal Ideas
@event-planning.tags_a Event Planning|Event Planning Tips|Event Planning Business|Party Planning
Event Ideas|Party Ideas|Party Decorations|Birthday Party|Birthday Decorations|Kids Party
Wedding Planning|Wedding Tips|Wedding Checklist|Budget Wedding|Diy Wedding|Dream Wedding
Wedding Reception|Wedding Decorations|Wedding Centerpieces|Bridal Shower
@event-planning.tags_b Balloon Garland|Balloon Decorations|Dessert Table|Party Favors|Party Games
Backyard Party|Outdoor Party|Photo Booth|Party Backdrop|Table Decorations|Table Settings
Event Decor|Event Design|Corporate Events|Anniversary Party|Party Themes|Party Time|Party Supplies
Celebration|Reception Ideas
@event-planning.sents Planning a party? These {t} make it easy.
Our complete guide to {t}, with a free printable checklist.|Stunning {t} that will wow your guests.
Save time and money with these {t}.|Everything we learned from years of {t}.
These {t} work for any size celebration.|Simple {t} you can set up in an afternoon.
@finance.topics Budgeting Tips|Money Saving Challenges|Debt Payoff Plans|Side Hustle Ideas
Investing Basics|Budget Planners|Emergency Funds|Frugal Living Tips|Retirement Planning
Passive Income Ideas|Grocery Budget Hacks|Credit Score Tips|Sinking Funds|Cash Envelope Systems
Net Worth Trackers|Money Mindset Tips
@finance.tags_a Financial Peace|Financial Tips|Financial Planning|Financial Literacy
Budgeting Finances|Budgeting Tips|Money Tips|Money Budget|Money Management|Wealth Management
Personal Finance|Money Saving Tips|Saving Money|Ways To Save Money|Save Money
Money Saving Challenge|Debt Payoff|Debt Free|Frugal Living|Frugal Tips
@finance.tags_b Investing|Investing Money|Stock Market|Retirement Planning|Emergency Fund
Sinking Funds|Cash Envelope System|Budget Planner|Budget Printables|Monthly Budget|Credit Score
Money Mindset|Financial Goals|Financial Freedom|Net Worth|Savings Plan|Savings Challenge
No Spend Challenge|Grocery Budget|Life On A Budget
@finance.sents These {t} helped us pay off thousands in debt.
Get your money under control with these simple {t}.
A beginner friendly guide to {t} that anyone can follow.
Use these {t} to finally start saving every month.
Here is exactly how we use {t} as a family of four.
Stop living paycheck to paycheck with these {t}.
Free printables and {t} to help you reach your goals.
@home-decor.topics Living Room Ideas|Farmhouse Kitchen Decor|Bedroom Makeovers
Small Apartment Ideas|Bathroom Decor|Gallery Walls|Entryway Ideas|Boho Bedrooms|Cozy Reading Nooks
Accent Walls|Kitchen Backsplashes|Open Shelving Ideas|Neutral Living Rooms|Dining Room Decor
Home Office Ideas|Mudroom Ideas
@home-decor.tags_a Home Decor|Home Decor Ideas|Diy Home Decor|Cheap Home Decor
Home Decor Inspiration|Living Room Decor|Living Room Designs|Cozy Living Rooms|Bedroom Decor
Master Bedroom|Bedroom Ideas|Kitchen Decor|Farmhouse Kitchen|Kitchen Design|Bathroom Decor
Small Bathroom|Interior Design|Interior Decorating|Modern Farmhouse|Farmhouse Decor
@home-decor.tags_b Gallery Wall|Wall Decor|Accent Wall|Entryway Decor|Mudroom|Reading Nook
Home Office|Dining Room|Open Shelving|Kitchen Backsplash|Indoor Plants|Plant Decor|Laundry Room
Rental Decor|Small Apartment|House Design|Dream Home|Room Makeover|Home Renovation|Mantel Decor
@home-decor.sents These {t} prove you do not need a big budget for a beautiful home.
Get the look with these {t} and a few thrifted finds.
Find the most cozy and modern {t} for every room.
Our before and after: {t} that transformed the space.|Easy {t} you can finish in a weekend.
Neutral tones, natural textures and simple {t}.
Designers share their favorite {t} for small spaces.
@mens-fashion.topics Casual Outfits for Men|Smart Casual Looks|Fall Outfits for Men
Streetwear Outfits|Business Casual Style|Men's Hairstyles|Leather Jackets|Denim Outfits
Sneaker Outfits|Minimalist Wardrobes|Summer Outfits for Men|Suit Styles|Watch Collections
Layering Tips|Beard Styles|Capsule Wardrobes
@mens-fashion.tags_a Mens Fashion|Mens Fashion Casual|Mens Casual Outfits|Men's Outfits
Fashion For Men|Style For Men|Mens Style|Men Street|Street Wear|Urban Fashion|Street Fashion Men
Mens Autumn Fashion|Mens Winter Fashion|Summer Outfits Men|Smart Casual|Business Casual Men
Work Outfits|Casual Outfits|Outfits Hombre|Men's Clothing
@mens-fashion.tags_b Mens Hairstyles|Beard Styles|Leather Jacket Men|Denim Outfit
Sneakers Outfit Men|Chelsea Boots Outfit|Boots Outfit Men|Suit Styles|Mens Suits|Watches For Men
Minimalist Wardrobe|Capsule Wardrobe Men|Layering Outfits|Jacket Outfits|Hipster Outfits
Teen Guy Fashion|Trendy Fashion|Fashion Trends|Fashion Outfits|Fashion Ideas
@mens-fashion.sents Looking for {t}? Here is how to look sharp all season.
A simple guide to {t} for every body type.
These {t} are easy to put together with basics you already own.
Upgrade your wardrobe with these {t}.|The essential pieces behind great {t}.
Stylists share their go-to {t} for work and weekends.|Affordable {t} that look expensive.
@quotes.topics Quotes About Life|Motivational Quotes|Self Love Quotes|Friendship Quotes
Inspirational Quotes|Positive Affirmations|Quotes About Strength|Funny Quotes|Love Quotes
Quotes About Moving On|Morning Motivation|Short Quotes|Family Quotes|Gratitude Quotes
Success Quotes|Mindset Quotes
@quotes.tags_a Life Quotes|Quotes To Live By|Inspirational Quotes|Motivational Quotes
Positive Quotes|Wisdom Quotes|True Quotes|Great Quotes|Words Quotes|Wise Words|Sayings And Quotes
Mood Quotes|Real Quotes|Quotes Deep|Self Love Quotes|Love Quotes|Friendship Quotes|Funny Quotes
Happy Quotes|Strong Quotes
@quotes.tags_b Affirmations|Positive Affirmations|Daily Affirmations|Morning Motivation
Mindset Quotes|Success Quotes|Gratitude Quotes|Family Quotes|Healing Quotes|Moving On Quotes
Change Quotes|Short Quotes|Deep Thoughts|Happiness Quotes|Attitude Quotes|Be Yourself Quotes
Encouragement Quotes|Hope Quotes|Faith Quotes|Peace Quotes
@quotes.sents The best {t} to get you through a hard week.
Read these {t} whenever you need a reminder.|A collection of {t} to share with someone you love.
These {t} will change the way you see things.|Start your day with these {t}.
Short and powerful {t} for when words fail.|Our readers picked their favorite {t}.
@tattoos.topics Small Tattoos|Fine Line Tattoos|Floral Tattoos|Minimalist Tattoos|Sleeve Tattoos
Back Tattoos|Wrist Tattoos|Matching Tattoos|Geometric Tattoos|Animal Tattoos|Script Tattoos
Moon Tattoos|Butterfly Tattoos|Traditional Tattoos|Watercolor Tattoos|Spine Tattoos
@tattoos.tags_a Tattoos|Small Tattoos|Mini Tattoos|Tiny Tattoos|Dainty Tattoos|Cute Tattoos
Pretty Tattoos|Unique Tattoos|Tattoo Designs|Tattoo Ideas|Body Art Tattoos|Fine Line Tattoo
Simple Tattoos|Minimalist Tattoo|Feminine Tattoos|Tattoos For Women|Tattoos For Guys|Arm Tattoo
Sleeve Tattoos|Back Tattoo
@tattoos.tags_b Flower Tattoos|Floral Tattoo|Rose Tattoos|Butterfly Tattoo|Moon Tattoo|Snake Tattoo
Animal Tattoos|Geometric Tattoo|Mandala Tattoo|Watercolor Tattoo|Script Tattoo|Matching Tattoos
Couple Tattoos|Sister Tattoos|Traditional Tattoo|Black Tattoos|Tattoo Art|Tattoo Inspiration
Ink Ideas|Tatoos
@tattoos.sents Thinking about a new tattoo? These {t} are full of inspiration.
The most beautiful {t} we found this year.
Tattoo artists share their favorite {t} and what they mean.
These delicate {t} are perfect for a first tattoo.|Bold and meaningful {t} for every style.
Everything to know before getting {t}, from pain to aftercare.|Our favorite {t} for women and men.
@travel.topics Travel Destinations|Road Trip Itineraries|Beach Vacations|National Parks
Packing Lists|Hidden Gems in Europe|Budget Travel Tips|Weekend Getaways|Travel Photography Spots
Island Escapes|City Breaks|Backpacking Routes|Mountain Hikes|Travel Hacks|Bucket List Trips
Solo Travel Tips
@travel.tags_a Travel|Travel Destinations|Places To Travel|Places To Visit|Cool Places To Visit
Beautiful Places To Travel|Best Places To Travel|Vacation Places|Vacation Spots|Dream Vacations
Travel Aesthetic|Travel Photography|Travel Tips|Travel Hacks|Budget Travel|Road Trip|Road Trip Usa
Europe Travel|Beach Vacation|Island Vacation
@travel.tags_b National Parks|Hiking Trails|Mountain Hiking|Waterfalls|Backpacking|Solo Travel
Family Vacation|Weekend Getaways|City Breaks|Coastal Towns|Winter Travel|Bucket List Travel
Travel Guide|Travel Itinerary|Hidden Gems|Wanderlust|Adventure Travel|Travel Inspiration
Vacation Ideas|Vacation Trips
@travel.sents Ready to explore? These {t} belong on your bucket list.
Our complete guide to {t}, with maps and tips.
We visited dozens of places and these {t} were the best.|Plan your next trip with these {t}.
How to see {t} on a budget.|Discover {t} that most tourists never find.
Everything you need to know before planning {t}.
@vehicles.topics Classic Cars|Muscle Cars|Vintage Trucks|Sports Cars|Custom Motorcycles|Camper Vans
Off Road Builds|Hot Rods|Electric Cars|Car Interiors|Restored Pickups|Luxury Cars
Car Detailing Tips|Jeep Builds|Cafe Racers|Lifted Trucks
@vehicles.tags_a Classic Cars|Old Cars|Vintage Cars|Antique Cars|Muscle Cars|Classic Trucks
Old Trucks|Pickup Trucks|Chevy Trucks|Ford Trucks|Lifted Trucks|Sports Cars|Sport Cars|Luxury Cars
Dream Cars|Cool Cars|Fast Cars|Hot Rods|Rat Rods|Race Cars
@vehicles.tags_b Motorcycles|Custom Motorcycles|Cafe Racer|Bobber|Camper Van|Van Life|Off Road|Jeep
Overland Vehicle|Electric Cars|Car Interior|Car Accessories|Car Detailing|Car Cleaning Hacks
Convertible|Cars And Motorcycles|Automotive|Super Cars|Car Wheels|Car Photography
@vehicles.sents Check out these {t} spotted at the show this year.
A look inside one of the cleanest {t} we have seen.|Everything you need to know before buying {t}.
These {t} were restored from the ground up.|Our favorite {t} of all time, ranked.
The story behind these {t} is even better than the paint.|Tips to keep your {t} looking brand new.
"""


def _parse(text: str) -> dict[str, tuple[str, ...]]:
    lists = {}
    for chunk in text.split("@")[1:]:
        key, _, body = chunk.partition(" ")
        lists[key] = tuple(
            item.strip() for line in body.splitlines() for item in line.split("|") if item.strip()
        )
    return lists


#: Poster-name families (share, format, word lists), each drawn without replacement. They cannot
#: produce the same string: word counts, "The", "'s", "|", inner capitals or lowercase differ.
#: The remaining 19% of posters get handles such as "jane_doe4711".
NAME_SHAPES: tuple[tuple[float, str, tuple[str, ...]], ...] = (
    (0.30, "{} {}", ("first", "last")),
    (0.03, "{} {}. {}", ("first", "initial", "last")),
    (0.02, "{}", ("first",)),
    (0.06, "{} {} {}", ("first", "last", "person")),
    (0.10, "{} {}", ("adj", "noun")),
    (0.05, "{}{}", ("adj", "noun")),
    (0.04, "The {} {}", ("adj", "noun")),
    (0.07, "{} {} {}", ("adj", "noun", "brand")),
    (0.04, "{}'s {}", ("first", "noun")),
    (0.03, "{} | {}", ("first", "tagline")),
    (0.04, "{} {} | {}", ("first", "last", "tagline")),
    (0.03, "{} {} | {}", ("adj", "noun", "tagline")),
)
INITIALS = tuple("ABCDEFGHIJKLMNOPRSTVW")

_LISTS = _parse(_DATA)
COUNTRIES = _LISTS["countries"]
FIRST_NAMES = _LISTS["first_names"]
LAST_NAMES = _LISTS["last_names"]
BRAND_ADJECTIVES = _LISTS["brand_adjectives"]
BRAND_NOUNS = _LISTS["brand_nouns"]
PERSON_SUFFIXES = _LISTS["person_suffixes"]
BRAND_SUFFIXES = _LISTS["brand_suffixes"]
TAGLINES = _LISTS["taglines"]
TITLE_TEMPLATES = _LISTS["title_templates"]
TITLE_SUFFIXES = _LISTS["title_suffixes"]
TITLE_ADJECTIVES = _LISTS["title_adjectives"]
GENERIC_SENTENCES = _LISTS["generic_sentences"]
TINY_DESCRIPTIONS = _LISTS["tiny_descriptions"]
EMOJI = _LISTS["emoji"]
NAME_WORDS = {"first": FIRST_NAMES, "last": LAST_NAMES, "initial": INITIALS, "tagline": TAGLINES}
NAME_WORDS |= {"adj": BRAND_ADJECTIVES, "noun": BRAND_NOUNS}
NAME_WORDS |= {"person": PERSON_SUFFIXES, "brand": BRAND_SUFFIXES}
CATEGORY_VOCAB: dict[str, dict[str, tuple[str, ...]]] = {}
for _key, _items in _LISTS.items():
    if "." in _key:
        _cat, _, _part = _key.partition(".")
        CATEGORY_VOCAB.setdefault(_cat, {})[_part] = _items
