(* Counting on the machine parameter space (THEORY.md section 1, theorem T2 of
   section 5 and "Counting (T2)" of section 6; FORMAL_PLAN.md "Counting").
   M is a duplicate-free list of reals, M^W is the list [words M W] of all
   words of length W over M, read as parameter vectors by [word_vec].  We prove
   the fibre lemma, the union bound, the exact count used for tightness and the
   Bonferroni-type inequality comparing it with the T2 bound. *)
From Coq Require Import Reals Lra Lia List ClassicalEpsilon FunctionalExtensionality.
From ADCorrect Require Import Vec.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(** Classical decision of a proposition, as a boolean. *)
Definition decP {A : Type} (P : A -> Prop) (x : A) : bool :=
  if excluded_middle_informative (P x) then true else false.

(** Number of elements of [l] satisfying [P] (with multiplicity). *)
Definition count {A : Type} (P : A -> Prop) (l : list A) : nat :=
  length (filter (decP P) l).

(** All words of length [W] over the alphabet [M]; coordinate 0 first. *)
Fixpoint words (M : list R) (W : nat) : list (list R) :=
  match W with
  | O => [[]]
  | S W' => flat_map (fun a => map (cons a) (words M W')) M
  end.

(** A word read as a parameter vector. *)
Definition word_vec (u : list R) : vec := fun i => nth i u 0.

(** Replace coordinate [p] of a word. *)
Fixpoint set_nth (u : list R) (p : nat) (a : R) : list R :=
  match u, p with
  | [], _ => []
  | _ :: u', O => a :: u'
  | x :: u', S p' => x :: set_nth u' p' a
  end.

(** * Finite sums *)

Lemma list_sum_map_const {A : Type} (c : nat) (l : list A) :
  list_sum (map (fun _ => c) l) = (c * length l)%nat.
Proof. induction l as [|x l IH]; simpl; lia. Qed.

Lemma list_sum_map_le {A : Type} (f g : A -> nat) (l : list A) :
  (forall x, In x l -> (f x <= g x)%nat) ->
  (list_sum (map f l) <= list_sum (map g l))%nat.
Proof.
  induction l as [|x l IH]; intros H; simpl; [lia|].
  assert (f x <= g x)%nat by (apply H; left; reflexivity).
  assert (list_sum (map f l) <= list_sum (map g l))%nat
    by (apply IH; intros y Hy; apply H; right; exact Hy).
  lia.
Qed.

Lemma list_sum_map_ext {A : Type} (f g : A -> nat) (l : list A) :
  (forall x, In x l -> f x = g x) ->
  list_sum (map f l) = list_sum (map g l).
Proof.
  intros H; f_equal; apply map_ext_in; exact H.
Qed.

Lemma list_sum_map_add {A : Type} (f g : A -> nat) (l : list A) :
  list_sum (map (fun x => f x + g x)%nat l) =
  (list_sum (map f l) + list_sum (map g l))%nat.
Proof. induction l as [|x l IH]; simpl; lia. Qed.

(** * Counting: basic facts *)

Lemma count_nil {A : Type} (P : A -> Prop) : count P [] = 0%nat.
Proof. reflexivity. Qed.

Lemma count_cons_true {A : Type} (P : A -> Prop) x l :
  P x -> count P (x :: l) = S (count P l).
Proof.
  intros Hx; unfold count, decP; simpl.
  destruct (excluded_middle_informative (P x)); [reflexivity | contradiction].
Qed.

Lemma count_cons_false {A : Type} (P : A -> Prop) x l :
  ~ P x -> count P (x :: l) = count P l.
Proof.
  intros Hx; unfold count, decP; simpl.
  destruct (excluded_middle_informative (P x)); [contradiction | reflexivity].
Qed.

(** The indicator of [P] at [x]. *)
Definition ind {A : Type} (P : A -> Prop) (x : A) : nat := count P [x].

Lemma count_cons {A : Type} (P : A -> Prop) x l :
  count P (x :: l) = (ind P x + count P l)%nat.
Proof.
  unfold ind; destruct (excluded_middle_informative (P x)) as [H|H].
  - rewrite !count_cons_true by exact H; reflexivity.
  - rewrite !count_cons_false by exact H; reflexivity.
Qed.

Lemma count_as_sum {A : Type} (P : A -> Prop) l :
  count P l = list_sum (map (ind P) l).
Proof. induction l as [|x l IH]; [reflexivity|]; rewrite count_cons, IH; reflexivity. Qed.

Lemma count_app {A : Type} (P : A -> Prop) l1 l2 :
  count P (l1 ++ l2) = (count P l1 + count P l2)%nat.
Proof. unfold count; rewrite filter_app, app_length; reflexivity. Qed.

Lemma count_le_length {A : Type} (P : A -> Prop) l : (count P l <= length l)%nat.
Proof.
  unfold count; induction l as [|x l IH]; simpl; [lia|].
  destruct (decP P x); simpl; lia.
Qed.

Lemma count_le {A : Type} (P Q : A -> Prop) l :
  (forall x, In x l -> P x -> Q x) -> (count P l <= count Q l)%nat.
Proof.
  induction l as [|x l IH]; intros H; [reflexivity|].
  assert (IH' : (count P l <= count Q l)%nat)
    by (apply IH; intros y Hy; apply H; right; exact Hy).
  destruct (excluded_middle_informative (P x)) as [HP|HP].
  - rewrite (count_cons_true P) by exact HP.
    rewrite (count_cons_true Q) by (apply H; [left; reflexivity | exact HP]).
    lia.
  - rewrite (count_cons_false P) by exact HP; rewrite count_cons; lia.
Qed.

Lemma count_ext {A : Type} (P Q : A -> Prop) l :
  (forall x, In x l -> (P x <-> Q x)) -> count P l = count Q l.
Proof.
  intros H; apply Nat.le_antisymm; apply count_le; intros x Hx; apply H; exact Hx.
Qed.

Lemma count_all {A : Type} (P : A -> Prop) l :
  (forall x, In x l -> P x) -> count P l = length l.
Proof.
  induction l as [|x l IH]; intros H; [reflexivity|].
  rewrite count_cons_true by (apply H; left; reflexivity); simpl.
  rewrite IH by (intros y Hy; apply H; right; exact Hy); reflexivity.
Qed.

Lemma count_none {A : Type} (P : A -> Prop) l :
  (forall x, In x l -> ~ P x) -> count P l = 0%nat.
Proof.
  induction l as [|x l IH]; intros H; [reflexivity|].
  rewrite count_cons_false by (apply H; left; reflexivity).
  apply IH; intros y Hy; apply H; right; exact Hy.
Qed.

Lemma count_or_le {A : Type} (P Q : A -> Prop) l :
  (count (fun x => P x \/ Q x) l <= count P l + count Q l)%nat.
Proof.
  induction l as [|x l IH]; [reflexivity|].
  destruct (excluded_middle_informative (P x \/ Q x)) as [H|H].
  - rewrite (count_cons_true (fun x => P x \/ Q x)) by exact H.
    destruct H as [H|H].
    + rewrite (count_cons_true P) by exact H; rewrite count_cons; lia.
    + rewrite (count_cons_true Q) by exact H; rewrite count_cons; lia.
  - rewrite (count_cons_false (fun x => P x \/ Q x)) by exact H; rewrite !count_cons; lia.
Qed.

Lemma count_compl {A : Type} (P : A -> Prop) l :
  (count P l + count (fun x => ~ P x) l)%nat = length l.
Proof.
  induction l as [|x l IH]; [reflexivity|].
  destruct (excluded_middle_informative (P x)) as [H|H].
  - rewrite (count_cons_true P) by exact H.
    rewrite (count_cons_false (fun x => ~ P x)) by tauto; simpl; lia.
  - rewrite (count_cons_false P) by exact H.
    rewrite (count_cons_true (fun x => ~ P x)) by exact H; simpl; lia.
Qed.

Lemma count_map {A B : Type} (P : B -> Prop) (f : A -> B) l :
  count P (map f l) = count (fun x => P (f x)) l.
Proof.
  induction l as [|x l IH]; [reflexivity|]; simpl; rewrite !count_cons, IH.
  unfold ind, count, decP; simpl.
  destruct (excluded_middle_informative (P (f x))); reflexivity.
Qed.

Lemma count_flat_map {A B : Type} (P : B -> Prop) (f : A -> list B) l :
  count P (flat_map f l) = list_sum (map (fun x => count P (f x)) l).
Proof.
  induction l as [|x l IH]; [reflexivity|]; simpl; rewrite count_app, IH; reflexivity.
Qed.

(** Exchange of the two sums in a double count. *)
Lemma count_exchange {A B : Type} (Q : A -> B -> Prop) (la : list A) (lb : list B) :
  list_sum (map (fun a => count (Q a) lb) la) =
  list_sum (map (fun b => count (fun a => Q a b) la) lb).
Proof.
  induction la as [|a la IH]; simpl.
  - rewrite (list_sum_map_ext _ (fun _ => 0%nat)) by reflexivity.
    rewrite list_sum_map_const; lia.
  - rewrite IH.
    rewrite (list_sum_map_ext (fun b => count (fun a0 => Q a0 b) (a :: la))
               (fun b => ind (Q a) b + count (fun a0 => Q a0 b) la)%nat).
    + rewrite list_sum_map_add, count_as_sum; reflexivity.
    + intros b _; rewrite count_cons; unfold ind, count, decP; simpl.
      destruct (excluded_middle_informative (Q a b)); reflexivity.
Qed.

(** A predicate with at most one witness in a duplicate-free list. *)
Lemma count_le_1 {A : Type} (P : A -> Prop) l :
  NoDup l -> (forall x y, In x l -> In y l -> P x -> P y -> x = y) ->
  (count P l <= 1)%nat.
Proof.
  induction l as [|x l IH]; intros Hnd H; [rewrite count_nil; lia|].
  inversion Hnd as [|x' l' Hx Hnd' Heq]; subst.
  destruct (excluded_middle_informative (P x)) as [HP|HP].
  - rewrite count_cons_true by exact HP.
    rewrite count_none; [lia|].
    intros y Hy HPy; apply Hx.
    rewrite (H x y) by (simpl; auto); exact Hy.
  - rewrite count_cons_false by exact HP.
    apply IH; [exact Hnd'|]; intros a b Ha Hb; apply H; simpl; auto.
Qed.

(** Counting the members of a sub-list. *)
Lemma count_In_incl {A : Type} (K L : list A) :
  NoDup K -> NoDup L -> incl K L -> count (fun x => In x K) L = length K.
Proof.
  intros HK HL Hincl; unfold count; apply Nat.le_antisymm.
  - apply NoDup_incl_length; [apply NoDup_filter; exact HL|].
    intros x Hx; apply filter_In in Hx as [_ Hx]; unfold decP in Hx.
    destruct (excluded_middle_informative (In x K)); [assumption | discriminate].
  - apply NoDup_incl_length; [exact HK|].
    intros x Hx; apply filter_In; split; [apply Hincl; exact Hx|].
    unfold decP; destruct (excluded_middle_informative (In x K)); tauto.
Qed.

(** * Words *)

Lemma words_length M W : length (words M W) = (length M ^ W)%nat.
Proof.
  induction W as [|W IH]; [reflexivity|]; simpl.
  rewrite <- (count_all (fun _ => True) (flat_map _ _)) by tauto.
  rewrite count_flat_map.
  rewrite (list_sum_map_ext _ (fun _ => length M ^ W)%nat).
  - rewrite list_sum_map_const; lia.
  - intros a _; rewrite count_all by tauto; rewrite map_length; exact IH.
Qed.

Lemma words_cons_In M W a v :
  In (a :: v) (words M (S W)) <-> In a M /\ In v (words M W).
Proof.
  simpl; rewrite in_flat_map; split.
  - intros [b [Hb Hv]]; apply in_map_iff in Hv as [v' [Heq Hv']].
    injection Heq as -> ->; split; assumption.
  - intros [Ha Hv]; exists a; split; [exact Ha|]; apply in_map; exact Hv.
Qed.

Lemma In_words M W u :
  In u (words M W) <-> length u = W /\ Forall (fun a => In a M) u.
Proof.
  revert u; induction W as [|W IH]; intros u.
  - simpl; split.
    + intros [<-|[]]; split; [reflexivity | constructor].
    + intros [Hl _]; destruct u; [left; reflexivity | discriminate].
  - destruct u as [|a v].
    + simpl; split; [|intros [Hl _]; discriminate].
      intros H; apply in_flat_map in H as [b [_ H]].
      apply in_map_iff in H as [v [Heq _]]; discriminate.
    + rewrite words_cons_In, IH, Forall_cons_iff; simpl; intuition lia.
Qed.

Lemma In_words_nth M W u :
  In u (words M W) <->
  length u = W /\ (forall i, (i < W)%nat -> In (nth i u 0) M).
Proof.
  rewrite In_words, Forall_forall; split.
  - intros [Hl H]; split; [exact Hl|]; intros i Hi; apply H, nth_In; lia.
  - intros [Hl H]; split; [exact Hl|]; intros a Ha.
    destruct (In_nth u a 0 Ha) as [i [Hi <-]]; apply H; lia.
Qed.

Lemma NoDup_app_disjoint {A : Type} (l1 l2 : list A) :
  NoDup l1 -> NoDup l2 -> (forall x, In x l1 -> ~ In x l2) -> NoDup (l1 ++ l2).
Proof.
  induction l1 as [|x l1 IH]; intros H1 H2 Hd; [exact H2|].
  inversion H1 as [|x' l1' Hx H1' Heq]; subst; simpl; constructor.
  - rewrite in_app_iff; intros [H|H]; [contradiction|].
    apply (Hd x); [left; reflexivity | exact H].
  - apply IH; [exact H1' | exact H2|]; intros y Hy; apply Hd; right; exact Hy.
Qed.

Lemma NoDup_map_cons (a : R) (l : list (list R)) :
  NoDup l -> NoDup (map (cons a) l).
Proof.
  induction l as [|v l IH]; intros H; simpl; [constructor|].
  inversion H as [|v' l' Hv H' Heq]; subst; constructor; [|apply IH; exact H'].
  intros Hin; apply in_map_iff in Hin as [v' [Heq Hv']].
  injection Heq as ->; contradiction.
Qed.

Lemma NoDup_flat_map_cons (la : list R) (lb : list (list R)) :
  NoDup la -> NoDup lb -> NoDup (flat_map (fun a => map (cons a) lb) la).
Proof.
  induction la as [|a la IH]; intros Ha Hb; simpl; [constructor|].
  inversion Ha as [|a' la' Ha' Hla Heq]; subst.
  apply NoDup_app_disjoint; [apply NoDup_map_cons; exact Hb | apply IH; assumption|].
  intros x Hx Hx'; apply in_map_iff in Hx as [v [<- _]].
  apply in_flat_map in Hx' as [b [Hb' Hv]]; apply in_map_iff in Hv as [v' [Heq _]].
  injection Heq as -> _; contradiction.
Qed.

Lemma NoDup_words M W : NoDup M -> NoDup (words M W).
Proof.
  intros HM; induction W as [|W IH]; simpl; [repeat constructor; simpl; tauto|].
  apply NoDup_flat_map_cons; assumption.
Qed.

(** * Changing one coordinate *)

Lemma set_nth_length u p a : length (set_nth u p a) = length u.
Proof.
  revert p; induction u as [|x u IH]; intros [|p]; simpl; try reflexivity.
  rewrite IH; reflexivity.
Qed.

Lemma nth_set_nth u p a i :
  (p < length u)%nat ->
  nth i (set_nth u p a) 0 = if Nat.eq_dec i p then a else nth i u 0.
Proof.
  revert p i; induction u as [|x u IH]; intros p i Hp; simpl in Hp; [lia|].
  destruct p as [|p], i as [|i]; simpl; try reflexivity.
  - rewrite IH by lia; destruct (Nat.eq_dec i p), (Nat.eq_dec (S i) (S p));
      try reflexivity; lia.
Qed.

Lemma word_vec_set_nth u p a :
  (p < length u)%nat -> word_vec (set_nth u p a) = upd (word_vec u) p a.
Proof.
  intros Hp; extensionality i.
  unfold word_vec, upd; apply nth_set_nth; exact Hp.
Qed.

Lemma set_nth_inj u p a b :
  (p < length u)%nat -> set_nth u p a = set_nth u p b -> a = b.
Proof.
  intros Hp H; generalize (nth_set_nth u p a p Hp), (nth_set_nth u p b p Hp).
  rewrite H; destruct (Nat.eq_dec p p) as [_|]; [congruence | lia].
Qed.

Lemma set_nth_words M W u p a :
  In u (words M W) -> In a M -> In (set_nth u p a) (words M W).
Proof.
  rewrite !In_words; intros [Hl Hu] Ha; split; [rewrite set_nth_length; exact Hl|].
  clear Hl; revert p; induction Hu as [|x u Hx Hu IH]; intros [|p]; simpl;
    constructor; auto.
Qed.

(** * The fibre lemma *)

(** If, whatever the other coordinates, at most [m] values of coordinate [p]
    satisfy [P], then at most [m * |M|^(W-1)] words satisfy [P]. *)
Lemma fibre_bound (M : list R) (W p m : nat) (P : list R -> Prop) :
  (p < W)%nat ->
  (forall u, In u (words M W) -> (count (fun a => P (set_nth u p a)) M <= m)%nat) ->
  (count P (words M W) <= m * length M ^ (W - 1))%nat.
Proof.
  revert p P; induction W as [|W IH]; intros p P Hp H; [lia|].
  simpl words; rewrite count_flat_map.
  rewrite (list_sum_map_ext _ (fun a => count (fun v => P (a :: v)) (words M W)))
    by (intros a _; apply count_map).
  destruct p as [|p].
  - rewrite (count_exchange (fun a v => P (a :: v))).
    replace (S W - 1)%nat with W by lia; rewrite <- words_length.
    rewrite <- list_sum_map_const; apply list_sum_map_le; intros v Hv.
    destruct M as [|x M']; [rewrite count_nil; lia|].
    apply (H (x :: v)); apply words_cons_In; split; [left; reflexivity | exact Hv].
  - apply Nat.le_trans with (list_sum (map (fun _ => m * length M ^ (W - 1)) M))%nat.
    + apply list_sum_map_le; intros a Ha.
      apply (IH p (fun v => P (a :: v))); [lia|].
      intros v Hv; apply (H (a :: v)); apply words_cons_In; split; assumption.
    + rewrite list_sum_map_const; destruct W as [|W]; [lia|].
      simpl; rewrite Nat.sub_0_r; apply Nat.eq_le_incl; ring.
Qed.

(** The case [m = 1]: two solutions that differ at most in coordinate [p] are
    equal. *)
Lemma fibre_bound_unique (M : list R) (W p : nat) (P : list R -> Prop) :
  NoDup M -> (p < W)%nat ->
  (forall u v, In u (words M W) -> In v (words M W) ->
     (forall i, i <> p -> nth i u 0 = nth i v 0) -> P u -> P v -> u = v) ->
  (count P (words M W) <= length M ^ (W - 1))%nat.
Proof.
  intros HM Hp H.
  rewrite <- (Nat.mul_1_l (length M ^ (W - 1))).
  apply (fibre_bound M W p 1 P Hp); intros u Hu.
  assert (Hl : length u = W) by (apply In_words in Hu; tauto).
  apply count_le_1; [exact HM|]; intros a b Ha Hb HPa HPb.
  apply (set_nth_inj u p); [lia|].
  apply H; try assumption; try (apply set_nth_words; assumption).
  intros i Hi; rewrite !nth_set_nth by lia.
  destruct (Nat.eq_dec i p); [contradiction | reflexivity].
Qed.

(** * The union bound *)

Lemma count_union_bound {A I : Type} (P : I -> A -> Prop) (lI : list I) (l : list A) :
  (count (fun u => exists i, In i lI /\ P i u) l <=
   list_sum (map (fun i => count (P i) l) lI))%nat.
Proof.
  induction lI as [|i lI IH]; simpl.
  - rewrite count_none; [lia|]; intros u _ [i [[] _]].
  - eapply Nat.le_trans; [|apply Nat.add_le_mono_l, IH].
    eapply Nat.le_trans; [|apply count_or_le].
    apply count_le; intros u _ [j [[<-|Hj] HP]]; [left; exact HP|].
    right; exists j; split; assumption.
Qed.

(** * The exact count for tightness *)

Lemma list_sum_map_ind_mul {A : Type} (P : A -> Prop) (c : nat) (l : list A) :
  list_sum (map (fun x => ind P x * c)%nat l) = (count P l * c)%nat.
Proof.
  induction l as [|x l IH]; [reflexivity|]; simpl; rewrite IH, count_cons; ring.
Qed.

Lemma count_not_In_incl (K L : list R) :
  NoDup K -> NoDup L -> incl K L ->
  count (fun x => ~ In x K) L = (length L - length K)%nat.
Proof.
  intros HK HL Hincl.
  generalize (count_compl (fun x => In x K) L); rewrite count_In_incl by assumption.
  lia.
Qed.

(** Words whose first [N] letters all avoid [K]. *)
Lemma count_avoid (M K : list R) (N W : nat) :
  NoDup M -> NoDup K -> incl K M -> (N <= W)%nat ->
  count (fun u => forall i, (i < N)%nat -> ~ In (nth i u 0) K) (words M W) =
  ((length M - length K) ^ N * length M ^ (W - N))%nat.
Proof.
  intros HM HK Hincl; revert W; induction N as [|N IH]; intros W HNW.
  - rewrite count_all by (intros; lia).
    rewrite words_length, Nat.sub_0_r; simpl; lia.
  - destruct W as [|W]; [lia|].
    simpl words; rewrite count_flat_map.
    rewrite (list_sum_map_ext _
      (fun a => ind (fun x => ~ In x K) a *
                ((length M - length K) ^ N * length M ^ (W - N)))%nat).
    + rewrite list_sum_map_ind_mul, count_not_In_incl by assumption.
      simpl; ring.
    + intros a _; rewrite count_map.
      unfold ind; destruct (excluded_middle_informative (In a K)) as [Ha|Ha].
      * rewrite (count_cons_false (fun x => ~ In x K)) by tauto.
        rewrite count_nil, count_none; [lia|].
        intros v _ Hv; apply (Hv 0%nat); [lia | exact Ha].
      * rewrite (count_cons_true (fun x => ~ In x K)) by exact Ha.
        rewrite count_nil, <- IH by lia.
        simpl; rewrite Nat.add_0_r; apply count_ext; intros v _; split.
        -- intros Hv i Hi; apply (Hv (S i)); lia.
        -- intros Hv [|i] Hi; [exact Ha|]; apply Hv; lia.
Qed.

(** The tightness count: words with a letter of [K] among the first [N]
    coordinates; with [m = |K|] this is [|M|^W - (|M|-m)^N |M|^(W-N)]. *)
Lemma tight_count (M K : list R) (N W : nat) :
  NoDup M -> NoDup K -> incl K M -> (N <= W)%nat ->
  count (fun u => exists i, (i < N)%nat /\ In (nth i u 0) K) (words M W) =
  (length M ^ W - (length M - length K) ^ N * length M ^ (W - N))%nat.
Proof.
  intros HM HK Hincl HNW.
  rewrite <- (count_avoid M K N W) by assumption.
  rewrite <- words_length, <- (count_compl (fun u => exists i, (i < N)%nat /\ In (nth i u 0) K)).
  rewrite (count_ext (fun u => ~ _)
            (fun u => forall i, (i < N)%nat -> ~ In (nth i u 0) K)); [lia|].
  intros u _; split.
  - intros H i Hi Hin; apply H; exists i; split; assumption.
  - intros H [i [Hi Hin]]; exact (H i Hi Hin).
Qed.

(** * The Bonferroni-type inequality *)

Lemma INR_mul_pred_nonneg (N : nat) : 0 <= INR N * (INR N - 1).
Proof.
  destruct N as [|N]; [simpl; lra|].
  rewrite S_INR; generalize (pos_INR N); intros; nra.
Qed.

(** Homogeneous form of [(1-x)^N <= 1 - N x + N(N-1)/2 x^2], with
    [x = (q-a)/q] cleared of denominators. *)
Lemma pow_bonferroni_homog (q a : R) (N : nat) :
  0 <= a <= q ->
  q ^ 2 * a ^ N <=
  q ^ N * (q ^ 2 - INR N * (q - a) * q + INR N * (INR N - 1) / 2 * (q - a) ^ 2).
Proof.
  intros Ha; induction N as [|N IH]; [simpl; lra|].
  assert (Hq : 0 <= q ^ N) by (apply pow_le; lra).
  assert (HN := INR_mul_pred_nonneg N).
  assert (Hstep : a * (q ^ 2 - INR N * (q - a) * q + INR N * (INR N - 1) / 2 * (q - a) ^ 2)
     <= q * (q ^ 2 - INR (S N) * (q - a) * q
             + INR (S N) * (INR (S N) - 1) / 2 * (q - a) ^ 2)).
  { rewrite S_INR.
    assert (E : q * (q ^ 2 - (INR N + 1) * (q - a) * q
                  + (INR N + 1) * (INR N + 1 - 1) / 2 * (q - a) ^ 2)
              - a * (q ^ 2 - INR N * (q - a) * q
                     + INR N * (INR N - 1) / 2 * (q - a) ^ 2)
              = INR N * (INR N - 1) / 2 * (q - a) ^ 3) by field.
    assert (0 <= (q - a) ^ 3) by (apply pow_le; lra).
    assert (0 <= INR N * (INR N - 1) / 2 * (q - a) ^ 3)
      by (apply Rmult_le_pos; lra).
    lra. }
  replace (q ^ 2 * a ^ S N) with (a * (q ^ 2 * a ^ N)) by (simpl; ring).
  apply Rle_trans with (a * (q ^ N * (q ^ 2 - INR N * (q - a) * q
                                      + INR N * (INR N - 1) / 2 * (q - a) ^ 2))).
  - apply Rmult_le_compat_l; lra.
  - replace (q ^ S N) with (q ^ N * q) by (simpl; ring).
    replace (a * (q ^ N * _)) with (q ^ N * (a * (q ^ 2 - INR N * (q - a) * q
                                      + INR N * (INR N - 1) / 2 * (q - a) ^ 2)))
      by ring.
    rewrite (Rmult_assoc (q ^ N) q); apply Rmult_le_compat_l; lra.
Qed.

(** [q^N - (q-m)^N >= N m q^(N-1) (1 - (N-1) m / (2q))], i.e.
    [1 - (1-x)^N >= N x - N(N-1)/2 x^2] with [x = m/q]. *)
Lemma bonferroni_pow (q m : R) (N : nat) :
  0 < q -> 0 <= m <= q ->
  INR N * m * q ^ (N - 1) * (1 - INR (N - 1) * m / (2 * q)) <= q ^ N - (q - m) ^ N.
Proof.
  intros Hq Hm; destruct N as [|N]; [simpl; lra|].
  replace (S N - 1)%nat with N by lia.
  generalize (pow_bonferroni_homog q (q - m) (S N) ltac:(lra)).
  replace (q - (q - m)) with m by ring.
  rewrite S_INR; simpl (q ^ S N).
  assert (HX : 0 <= q ^ N) by (apply pow_le; lra).
  set (X := q ^ N); set (Y := (q - m) ^ S N); set (n := INR N); intros H.
  apply Rmult_le_reg_l with (2 * q); [lra|].
  replace (2 * q * ((n + 1) * m * X * (1 - n * m / (2 * q))))
    with (2 * (n + 1) * m * X * q - (n + 1) * n * m ^ 2 * X) by (field; lra).
  apply Rmult_le_reg_l with q; [lra|].
  nra.
Qed.

(** The same inequality with the natural numbers of the counting problem:
    [N m q^(N-1) (2q - (N-1)m) <= 2q (q^N - (q-m)^N)] for [m <= q]. *)
Lemma bonferroni_nat (q m N : nat) :
  (m <= q)%nat ->
  (N * m * q ^ (N - 1) * (2 * q - (N - 1) * m) <= 2 * q * (q ^ N - (q - m) ^ N))%nat.
Proof.
  intros Hmq.
  destruct (Nat.eq_dec q 0) as [->|Hq]; [simpl; lia|].
  assert (Hpow : ((q - m) ^ N <= q ^ N)%nat) by (apply Nat.pow_le_mono_l; lia).
  destruct (Nat.le_gt_cases ((N - 1) * m) (2 * q)) as [Hle|Hgt].
  2: { replace (2 * q - (N - 1) * m)%nat with 0%nat by lia; rewrite Nat.mul_0_r; apply Nat.le_0_l. }
  apply INR_le.
  rewrite !mult_INR, !minus_INR by (try apply Nat.mul_le_mono_l; lia).
  rewrite !pow_INR, minus_INR by lia.
  rewrite !mult_INR.
  assert (HqR : 0 < INR q) by (apply lt_0_INR; lia).
  assert (HmR : 0 <= INR m <= INR q) by (split; [apply pos_INR | apply le_INR; lia]).
  generalize (bonferroni_pow (INR q) (INR m) N HqR HmR); intros H.
  replace (INR 2) with 2 by reflexivity.
  replace (INR N * INR m * INR q ^ (N - 1) * (2 * INR q - INR (N - 1) * INR m))
    with (2 * INR q * (INR N * INR m * INR q ^ (N - 1) * (1 - INR (N - 1) * INR m / (2 * INR q))))
    by (field; lra).
  apply Rmult_le_compat_l; lra.
Qed.

(** The tightness count compared with the T2 bound [N m q^(W-1)]:
    [q^W - (q-m)^N q^(W-N) >= N m q^(W-1) (1 - (N-1) m / (2q))]. *)
Lemma tight_count_ge_bound (q m N W : nat) :
  (m <= q)%nat -> (N <= W)%nat ->
  INR (N * m * q ^ (W - 1)) * (1 - INR (N - 1) * INR m / (2 * INR q)) <=
  INR (q ^ W - (q - m) ^ N * q ^ (W - N)).
Proof.
  intros Hmq HNW.
  destruct (Nat.eq_dec q 0) as [->|Hq].
  { replace m with 0%nat by lia; rewrite Nat.mul_0_r; simpl; rewrite Rmult_0_l; apply pos_INR. }
  destruct N as [|N]; [simpl; rewrite Rmult_0_l; apply pos_INR|].
  assert (Hpow : ((q - m) ^ S N <= q ^ S N)%nat) by (apply Nat.pow_le_mono_l; lia).
  replace (q ^ W)%nat with (q ^ (W - S N) * q ^ S N)%nat
    by (rewrite <- Nat.pow_add_r; f_equal; lia).
  replace (q ^ (W - 1))%nat with (q ^ (W - S N) * q ^ (S N - 1))%nat
    by (rewrite <- Nat.pow_add_r; f_equal; lia).
  rewrite (Nat.mul_comm ((q - m) ^ S N)), <- Nat.mul_sub_distr_l.
  rewrite !mult_INR, (minus_INR (q ^ S N)) by exact Hpow.
  rewrite !pow_INR, (minus_INR q m) by lia.
  assert (HqR : 0 < INR q) by (apply lt_0_INR; lia).
  assert (HmR : 0 <= INR m <= INR q) by (split; [apply pos_INR | apply le_INR; lia]).
  generalize (bonferroni_pow (INR q) (INR m) (S N) HqR HmR); intros H.
  assert (HX : 0 <= INR q ^ (W - S N)) by (apply pow_le; lra).
  replace (INR (S N) * INR m * (INR q ^ (W - S N) * INR q ^ (S N - 1)) *
             (1 - INR (S N - 1) * INR m / (2 * INR q)))
    with (INR q ^ (W - S N) *
          (INR (S N) * INR m * INR q ^ (S N - 1) * (1 - INR (S N - 1) * INR m / (2 * INR q))))
    by ring.
  apply Rmult_le_compat_l; assumption.
Qed.

(** For one neuron the tightness count is exactly the bound [m q^(W-1)]. *)
Lemma tight_count_N1 (q m W : nat) :
  (m <= q)%nat -> (1 <= W)%nat ->
  (q ^ W - (q - m) ^ 1 * q ^ (W - 1) = 1 * m * q ^ (W - 1))%nat.
Proof.
  intros Hmq HW.
  replace (q ^ W)%nat with (q * q ^ (W - 1))%nat
    by (rewrite <- (Nat.pow_succ_r' q (W - 1)); f_equal; lia).
  rewrite Nat.pow_1_r, <- Nat.mul_sub_distr_r; f_equal; lia.
Qed.
