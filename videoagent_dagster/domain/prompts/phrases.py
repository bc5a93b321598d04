"""Phrase templates for the offline writer, per language.

Placeholders: {subject} (the topic without its framing), {Subject}, {kw}/{kw2} (its content
words), {mood}, {visual} (the style's look), {lighting}, and in shot descriptions
{shot_type} and {beat_visual}. Each narration group lists options from short to long; the
writer takes the longest that fits the shot.
"""

from __future__ import annotations

MIDDLE_BEATS = ("context", "detail", "life", "change")


def beat_for(scene: int, n_scenes: int) -> str:
    if scene == 0:
        return "opening"
    if scene == n_scenes - 1:
        return "closing"
    return MIDDLE_BEATS[(scene - 1) % len(MIDDLE_BEATS)]


_TYPE_CYCLE = ("wide", "medium", "close_up", "aerial", "medium", "extreme_close_up", "over_the_shoulder", "wide")


def shot_type_for(i: int, n: int) -> str:
    """Open establishing, close wide, and vary in between."""
    if i == 0:
        return "establishing"
    if i == n - 1 and n > 2:
        return "wide"
    return _TYPE_CYCLE[(i - 1) % len(_TYPE_CYCLE)]


EN_STOPWORDS = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "but", "with", "from", "by", "about",
    "into", "over", "under", "how", "why", "what", "when", "where", "who", "is", "are", "was", "were", "be",
    "its", "their", "his", "her", "our", "your", "this", "that", "these", "those", "through", "across",
}

EN = {
    "video_title": "{Subject}",
    "synopsis": "A {mood} short film about {subject}: where it begins, what it looks like up close, "
                "how it lives and changes, and what it leaves us with.",
    "titles": {
        "opening": "{Subject}", "context": "The bigger picture", "detail": "A closer look at {kw}",
        "life": "Life and motion", "change": "What is changing", "closing": "Looking ahead",
    },
    "detail_titles": ["{kw}", "Around {kw2}", "Details of {kw}", "Moments of {kw2}"],
    "scene_descriptions": {
        "opening": "Introduce {subject} with a wide, {mood} opening image.",
        "context": "Set {subject} in its wider world: place, scale and history.",
        "detail": "Move in on {kw} and the details that define it.",
        "life": "Show {subject} in motion: the everyday rhythm around {kw2}.",
        "change": "Show how {subject} is changing, and why it matters.",
        "closing": "Pull back for a last, {mood} view of {subject}.",
    },
    "beat_visuals": {
        "opening": "the whole of {subject} at first light", "context": "{subject} set against its wider landscape",
        "detail": "textures and shapes of {kw}", "life": "movement and rhythm around {kw2}",
        "change": "signs of change in {subject}", "closing": "a last wide view of {subject}",
    },
    "shot_description": "{shot_type} of {beat_visual}, {visual}.",
    "visual_notes": "{visual}; {lighting}.",
    "cast_description": {
        "character": "{name}, the same in every shot: drawn in the video's look ({visual}), in {colours}.",
        "place": "{name}, the same place in every shot: its landmarks and light as first shown, {visual}, in {colours}.",
        "prop": "{name}, the same object in every shot: its shape and material unchanged, {visual}, in {colours}.",
    },
    "audio_notes": "Calm narration over a quiet bed.",
    "narration": {
        "opening": [
            ["{Subject}.", "This is {subject}.", "This is the story of {subject}.",
             "This is the story of {subject}, told in a {mood} way."],
            ["Let us begin.", "Let us take a closer look.", "There is more here than first meets the eye.",
             "There is far more to {subject} than first meets the eye."],
        ],
        "context": [
            ["The bigger picture.", "First, the bigger picture.", "To understand {subject}, start with the bigger picture.",
             "To understand {subject}, we start with the bigger picture: {kw} and {kw2}."],
            ["It all connects.", "Everything here is connected.", "Everything here connects to {kw}.",
             "Everything here connects, from {kw} to {kw2}, in ways we rarely notice."],
        ],
        "detail": [
            ["Look closer.", "Up close, {kw} tells its own story.", "Up close, {kw} reveals details that are easy to miss.",
             "Up close, {kw} reveals patterns and details that are easy to miss from afar."],
            ["Every detail matters.", "Every detail has a purpose.", "Each small detail of {kw} has a purpose.",
             "Each small detail of {kw} has a purpose, shaped over a very long time."],
        ],
        "life": [
            ["Always moving.", "Here, nothing stands still.", "Around {kw2}, nothing ever truly stands still.",
             "Every day, {subject} is shaped by movement, rhythm and the lives around it."],
            ["Life goes on.", "Life finds its own rhythm.", "Life around {kw} finds its own rhythm.",
             "Life around {kw} finds its own rhythm, from the first light to the last."],
        ],
        "change": [
            ["Things are changing.", "Today, {subject} is changing.", "Today, {subject} is changing faster than ever.",
             "Today, {subject} is changing faster than ever, and the change is easy to see."],
            ["Change has a cost.", "Every change leaves a mark.", "Every change to {kw} leaves a lasting mark.",
             "Every change to {kw} leaves a lasting mark on {kw2} and on us."],
        ],
        "closing": [
            ["There is always more.", "There is always more to see.", "{Subject} reminds us there is always more to see.",
             "In the end, {subject} reminds us that there is always more to see."],
            ["Thank you for watching.", "Until next time.", "Until next time, keep looking closely.",
             "Until next time, keep looking closely at {subject} and the world around it."],
        ],
    },
    "shot_types": {
        "establishing": "Establishing shot", "wide": "Wide shot", "medium": "Medium shot", "close_up": "Close-up",
        "extreme_close_up": "Extreme close-up", "aerial": "Aerial shot", "over_the_shoulder": "Over-the-shoulder shot",
    },
    "compositions": {
        "establishing": "rule of thirds, low horizon, lots of sky", "wide": "balanced, horizon on the lower third",
        "medium": "subject centred, some context around it", "close_up": "subject fills the frame",
        "extreme_close_up": "a single detail fills the frame", "aerial": "top-down, strong leading lines",
        "over_the_shoulder": "foreground silhouette frames the subject",
    },
    # The catalogue's mood names are adjectives but two, which read as nouns before "short film".
    "moods": {"awe": "awe-inspiring", "wonder": "wondrous"},
    "visual_styles": {},
}

ZH = {
    "video_title": "{subject}",
    "synopsis": "一部关于{subject}的短片：从全景到细节，从日常到变化，最后留下值得回味的画面。",
    "titles": {
        "opening": "{subject}", "context": "更大的图景", "detail": "走近{kw}",
        "life": "生生不息", "change": "正在发生的变化", "closing": "展望未来",
    },
    "detail_titles": ["{kw}", "{kw2}的四周", "{kw}的细节", "{kw2}的瞬间"],
    "scene_descriptions": {
        "opening": "以{mood}的全景画面引出{subject}。",
        "context": "把{subject}放进更大的背景：地点、规模与历史。",
        "detail": "靠近{kw}，展示它独特的细节。",
        "life": "展现{subject}的日常节奏与{kw2}周围的动态。",
        "change": "展示{subject}正在发生的变化及其意义。",
        "closing": "拉远镜头，以{mood}的画面告别{subject}。",
    },
    "beat_visuals": {
        "opening": "晨光中的{subject}全貌", "context": "{subject}与它所在的广阔天地",
        "detail": "{kw}的纹理与形状", "life": "{kw2}周围的动感与节奏",
        "change": "{subject}变化的痕迹", "closing": "{subject}最后的远景",
    },
    "shot_description": "{shot_type}：{beat_visual}，{visual}。",
    "visual_notes": "{visual}；{lighting}。",
    "cast_description": {
        "character": "{name}，每个镜头中外观一致：{visual}，主色 {colours}。",
        "place": "{name}，每个镜头中是同一地点：地标与光线保持一致，{visual}，主色 {colours}。",
        "prop": "{name}，每个镜头中是同一物件：形状与材质不变，{visual}，主色 {colours}。",
    },
    "audio_notes": "平静的旁白，轻柔的背景声。",
    "narration": {
        "opening": [
            ["{subject}。", "这就是{subject}。", "这是关于{subject}的故事。", "这是一个关于{subject}的故事，让我们慢慢走近。"],
            ["让我们开始吧。", "让我们走近看看。", "这里的一切远比表面更丰富。", "关于{subject}，还有很多值得发现的地方。"],
        ],
        "context": [
            ["先看全景。", "首先，看看全景。", "要了解{subject}，先从全景开始。", "要了解{subject}，我们先从{kw}和{kw2}的全景开始。"],
            ["一切相连。", "这里的一切都彼此相连。", "这里的一切都与{kw}相连。", "从{kw}到{kw2}，一切都以我们很少注意的方式相连。"],
        ],
        "detail": [
            ["靠近一点。", "走近看，{kw}自有故事。", "走近看，{kw}藏着容易被忽略的细节。", "走近细看，{kw}藏着许多远处看不到的纹理和细节。"],
            ["细节很重要。", "每个细节都有意义。", "{kw}的每个细节都有它的意义。", "{kw}的每一个细节，都是漫长岁月塑造的结果。"],
        ],
        "life": [
            ["一切都在动。", "这里从不静止。", "在{kw2}周围，一切从不静止。", "每一天，{subject}都在流动、节奏与生命之中改变。"],
            ["生活继续。", "生命自有节奏。", "{kw}周围的生命自有节奏。", "从清晨到黄昏，{kw}周围的生命都有自己的节奏。"],
        ],
        "change": [
            ["变化正在发生。", "今天，{subject}正在改变。", "今天，{subject}正以前所未有的速度改变。", "今天，{subject}正以前所未有的速度改变，而且清晰可见。"],
            ["变化有代价。", "每一次变化都留下痕迹。", "{kw}的每一次变化都会留下痕迹。", "{kw}的每一次变化，都会在{kw2}和我们身上留下痕迹。"],
        ],
        "closing": [
            ["总有更多。", "总有更多值得看。", "{subject}提醒我们，总有更多值得发现。", "最后，{subject}提醒我们，这个世界总有更多值得发现。"],
            ["感谢观看。", "下次再见。", "下次再见，记得细心观察。", "下次再见，记得细心观察{subject}和身边的世界。"],
        ],
    },
    "shot_types": {
        "establishing": "建立镜头", "wide": "远景", "medium": "中景", "close_up": "近景",
        "extreme_close_up": "特写", "aerial": "航拍", "over_the_shoulder": "过肩镜头",
    },
    "compositions": {
        "establishing": "三分法构图，低地平线，大片天空", "wide": "平衡构图，地平线位于下三分之一",
        "medium": "主体居中，保留周围环境", "close_up": "主体充满画面", "extreme_close_up": "单一细节充满画面",
        "aerial": "俯视角度，强烈的引导线", "over_the_shoulder": "前景剪影框住主体",
    },
    "moods": {"dramatic": "戏剧性", "informative": "纪实", "playful": "活泼", "calm": "宁静", "nostalgic": "怀旧",
              "awe": "震撼", "serene": "宁静", "energetic": "充满活力", "upbeat": "明快", "contemplative": "沉思",
              "wonder": "奇妙", "magical": "梦幻"},
    "visual_styles": {"cinematic": "电影感的高反差画面", "documentary": "自然的纪实构图", "animated": "粗线条的卡通造型",
                      "minimalist": "留白的几何构图", "vintage": "带颗粒感的复古胶片", "futuristic": "暗色玻璃上的霓虹线条",
                      "nature": "层叠的山丘与天空", "urban": "街头视角的城市几何", "commercial": "精致的产品式画面",
                      "artistic": "富有笔触感的色彩", "scifi": "深空中的星球与群星", "fantasy": "发光的奇幻国度"},
}

# Japanese: polite narration (です・ます), one sentence per option as in ZH (the storyboard splits a
# scene's narration into shots at 。！？). {mood} is an attributive form ("穏やかな"), so it sits straight
# before a noun. The shortest options stay within about 8 characters, which fit a 2-second shot.
JA = {
    "video_title": "{subject}",
    "synopsis": "{subject}をめぐる短編映像。全景から細部へ、日々の営みから変化へとたどり、最後に余韻の残る風景で締めくくります。",
    "titles": {
        "opening": "{subject}", "context": "より広い視点から", "detail": "{kw}に迫る",
        "life": "息づく日々", "change": "いま起きている変化", "closing": "これから先へ",
    },
    "detail_titles": ["{kw}", "{kw2}のまわり", "{kw}の細部", "{kw2}のひととき"],
    "scene_descriptions": {
        "opening": "{mood}全景で{subject}を紹介する。",
        "context": "{subject}をより大きな背景の中に置く：場所、規模、そして歴史。",
        "detail": "{kw}に寄り、その独特な細部を見せる。",
        "life": "{subject}の日々のリズムと、{kw2}のまわりの動きを描く。",
        "change": "{subject}にいま起きている変化と、その意味を示す。",
        "closing": "カメラを引き、{mood}映像で{subject}に別れを告げる。",
    },
    "beat_visuals": {
        "opening": "朝の光に包まれた{subject}の全景", "context": "広い世界の中に置かれた{subject}",
        "detail": "{kw}の質感と形", "life": "{kw2}のまわりの動きとリズム",
        "change": "{subject}に表れる変化の兆し", "closing": "{subject}の最後の遠景",
    },
    "shot_description": "{shot_type}：{beat_visual}、{visual}。",
    "visual_notes": "{visual}。照明：{lighting}。",
    "cast_description": {
        "character": "{name}。どのショットでも同じ姿：{visual}、色は {colours}。",
        "place": "{name}。どのショットでも同じ場所：目印と光は最初のまま、{visual}、色は {colours}。",
        "prop": "{name}。どのショットでも同じ物：形と素材は変わらない、{visual}、色は {colours}。",
    },
    "audio_notes": "落ち着いたナレーションに、控えめな環境音。",
    "narration": {
        "opening": [
            ["{subject}。", "これが{subject}です。", "これは{subject}の物語です。",
             "{subject}をめぐる物語を、ゆっくりとたどっていきましょう。"],
            ["さあ、始めましょう。", "近くで見てみましょう。", "ここには、見た目以上のものがあります。",
             "{subject}には、まだ知られていない魅力がたくさんあります。"],
        ],
        "context": [
            ["まずは全体から。", "まずは全体を見渡しましょう。", "{subject}を知るには、まず全体から。",
             "{subject}を知るために、まずは{kw}と{kw2}の全体像から見ていきます。"],
            ["すべてはつながる。", "ここでは、すべてがつながっています。", "ここにあるすべてが、{kw}とつながっています。",
             "{kw}から{kw2}まで、すべては思いがけない形でつながっています。"],
        ],
        "detail": [
            ["もっと近くへ。", "近くで見ると、{kw}にも物語があります。", "近くで見ると、{kw}には見落としがちな細部があります。",
             "近づいてよく見ると、{kw}には遠くからは見えない質感と細部があふれています。"],
            ["細部こそ大切。", "どの細部にも意味があります。", "{kw}の細部には、ひとつひとつ意味があります。",
             "{kw}の細部は、どれも長い年月をかけて形づくられてきました。"],
        ],
        "life": [
            ["絶えず動き続ける。", "ここでは、何ひとつ止まっていません。", "{kw2}のまわりでは、何ひとつ止まっていません。",
             "{subject}は毎日、動きとリズム、そしてそこに息づく命によって形づくられています。"],
            ["営みは続く。", "命は、自らのリズムを刻みます。", "{kw}のまわりで、命は自らのリズムを刻みます。",
             "朝の光から夕暮れまで、{kw}のまわりの命は自らのリズムを刻んでいます。"],
        ],
        "change": [
            ["変化が起きている。", "いま、{subject}は変わりつつあります。", "いま、{subject}はかつてない速さで変わりつつあります。",
             "いま、{subject}はかつてない速さで変わりつつあり、その変化ははっきりと目に見えます。"],
            ["変化には代償も。", "どんな変化も、跡を残します。", "{kw}の変化は、どれも消えない跡を残します。",
             "{kw}に起きる変化は、{kw2}にも、私たちにも、消えない跡を残していきます。"],
        ],
        "closing": [
            ["発見は尽きない。", "まだまだ見るべきものがあります。", "{subject}は、発見が尽きないことを教えてくれます。",
             "そして{subject}は、この世界にまだ発見すべきものがたくさんあることを教えてくれます。"],
            ["それでは、また。", "ご覧いただき、ありがとうございました。", "次回まで、身のまわりをじっくり見つめてみてください。",
             "次回まで、{subject}と身のまわりの世界を、じっくり見つめてみてください。"],
        ],
    },
    "shot_types": {
        "establishing": "エスタブリッシングショット", "wide": "ロングショット", "medium": "ミディアムショット",
        "close_up": "クローズアップ", "extreme_close_up": "超クローズアップ", "aerial": "空撮",
        "over_the_shoulder": "肩越しショット",
    },
    "compositions": {
        "establishing": "三分割構図、低い地平線、広い空", "wide": "バランスのよい構図、地平線は下から三分の一",
        "medium": "被写体を中央に、周囲の様子も残す", "close_up": "被写体が画面を満たす", "extreme_close_up": "ひとつの細部が画面を満たす",
        "aerial": "真上からの俯瞰、力強い導線", "over_the_shoulder": "手前のシルエットが被写体を縁取る",
    },
    "moods": {"dramatic": "ドラマチックな", "informative": "ありのままの", "playful": "遊び心のある", "calm": "穏やかな",
              "nostalgic": "懐かしい", "awe": "圧倒的な", "serene": "静かな", "energetic": "躍動感のある", "upbeat": "軽快な",
              "contemplative": "思索的な", "wonder": "不思議な", "magical": "幻想的な"},
    "visual_styles": {"cinematic": "深い陰影の映画的なハイコントラスト映像", "documentary": "自然で観察的な記録映像の構図",
                      "animated": "太い輪郭線のフラットなカートゥーン", "minimalist": "余白を生かした幾何学的な構図",
                      "vintage": "粒子感のある色あせたフィルム", "futuristic": "暗いガラスに走るネオンのライン",
                      "nature": "重なり合う丘と空の風景", "urban": "ストリート目線の都市の幾何学",
                      "commercial": "洗練された製品広告風の映像", "artistic": "筆致を感じさせる豊かな色彩",
                      "scifi": "惑星と星々が広がる深宇宙", "fantasy": "光に満ちた幻想の国"},
}

LANG = {"en": EN, "zh": ZH, "ja": JA}
